/**
 * The reference business: an embedded SQLite database (through `node:sqlite`) that the enterprise
 * tools read and change. It is separate from Switchboard's own store: this is the company's data,
 * not the runtime's. It is created and seeded deterministically from a seed value on first open,
 * so every fresh machine, test and scenario sees the same customers, orders and tickets.
 */
import { DatabaseSync } from 'node:sqlite';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { mulberry32 } from '../../src/core/random.ts';

/** The seed of the default data set; scenarios are written against it. */
export const DEFAULT_SEED = 20250602;
/** "Today" in the seeded world: order dates, expiries and calendar slots are relative to it. */
export const BUSINESS_EPOCH = '2025-06-02T09:00:00.000Z';
const SCHEMA_VERSION = 1;

/** An open business database and the clock the tools use for timestamps. */
export interface BusinessDb {
  readonly db: DatabaseSync;
  readonly path: string;
  /** Business time; fixed by default so scenario runs are reproducible. */
  now(): Date;
  close(): void;
}

export interface OpenBusinessDbOptions {
  seed?: number;
  /** Clock for new rows; defaults to the fixed business epoch. */
  now?: () => Date;
}

export { mulberry32 };

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE customers (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE, phone TEXT NOT NULL,
  tier TEXT NOT NULL, language TEXT NOT NULL, city TEXT NOT NULL, postcode TEXT NOT NULL,
  date_of_birth TEXT NOT NULL, created_at TEXT NOT NULL, verified_at TEXT);
CREATE TABLE products (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, category TEXT NOT NULL, price_cents INTEGER NOT NULL,
  stock INTEGER NOT NULL, reorder_level INTEGER NOT NULL, warehouse TEXT NOT NULL);
CREATE TABLE orders (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id), status TEXT NOT NULL,
  created_at TEXT NOT NULL, subtotal_cents INTEGER NOT NULL, discount_code TEXT,
  discount_cents INTEGER NOT NULL DEFAULT 0, total_cents INTEGER NOT NULL,
  refunded_cents INTEGER NOT NULL DEFAULT 0);
CREATE INDEX orders_by_customer ON orders(customer_id, created_at);
CREATE TABLE order_items (
  order_id TEXT NOT NULL REFERENCES orders(id), product_id TEXT NOT NULL REFERENCES products(id),
  quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL, PRIMARY KEY (order_id, product_id));
CREATE TABLE shipments (
  id TEXT PRIMARY KEY, order_id TEXT NOT NULL UNIQUE REFERENCES orders(id), carrier TEXT NOT NULL,
  tracking_number TEXT NOT NULL UNIQUE, status TEXT NOT NULL, shipped_at TEXT NOT NULL, eta TEXT NOT NULL,
  last_location TEXT NOT NULL, carrier_failures_remaining INTEGER NOT NULL DEFAULT 0);
CREATE TABLE payments (
  id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(id), amount_cents INTEGER NOT NULL,
  method TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL, idempotency_key TEXT UNIQUE);
CREATE TABLE refunds (
  id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(id), amount_cents INTEGER NOT NULL,
  reason TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL, idempotency_key TEXT UNIQUE);
CREATE TABLE tickets (
  id TEXT PRIMARY KEY, customer_id TEXT REFERENCES customers(id), subject TEXT NOT NULL,
  description TEXT NOT NULL, priority TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
  idempotency_key TEXT UNIQUE);
CREATE TABLE kb_articles (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, category TEXT NOT NULL, body TEXT NOT NULL, tags TEXT NOT NULL);
CREATE TABLE discount_codes (
  code TEXT PRIMARY KEY, percent_off INTEGER NOT NULL, min_order_cents INTEGER NOT NULL,
  expires_at TEXT NOT NULL, active INTEGER NOT NULL, max_uses INTEGER NOT NULL, uses INTEGER NOT NULL);
CREATE TABLE calendar_slots (
  id TEXT PRIMARY KEY, starts_at TEXT NOT NULL, representative TEXT NOT NULL, customer_id TEXT,
  topic TEXT, status TEXT NOT NULL, idempotency_key TEXT UNIQUE);
CREATE INDEX slots_by_time ON calendar_slots(starts_at);
CREATE TABLE outbox (
  id TEXT PRIMARY KEY, to_address TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
  status TEXT NOT NULL, created_at TEXT NOT NULL, idempotency_key TEXT UNIQUE);
CREATE TABLE feedback (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id), rating INTEGER NOT NULL,
  comment TEXT NOT NULL, sentiment TEXT NOT NULL, created_at TEXT NOT NULL, idempotency_key TEXT UNIQUE);
CREATE TABLE escalations (
  id TEXT PRIMARY KEY, customer_id TEXT, ticket_id TEXT, reason TEXT NOT NULL, priority TEXT NOT NULL,
  queue TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL, idempotency_key TEXT UNIQUE);
CREATE TABLE tool_results (
  idempotency_key TEXT PRIMARY KEY, tool TEXT NOT NULL, result TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE identity_checks (
  id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL, factors TEXT NOT NULL,
  verified INTEGER NOT NULL, created_at TEXT NOT NULL);
`;

const FIRST = [
  'Jane',
  'Omar',
  'Priya',
  'Lucas',
  'Mei',
  'Carlos',
  'Amara',
  'Noah',
  'Sofia',
  'Kenji',
  'Fatima',
  'Liam',
  'Elena',
  'Mateo',
  'Aisha',
  'Ethan',
  'Yuki',
  'Hugo',
  'Zara',
  'Felix',
  'Ines',
  'David',
  'Chloe',
  'Ravi',
  'Greta',
  'Tomas',
  'Leila',
  'Owen',
  'Nadia',
  'Samuel',
  'Ivy',
  'Marco',
  'Hana',
  'Jonas',
  'Alba',
  'Victor',
];
const LAST = [
  'Cooper',
  'Haddad',
  'Sharma',
  'Martin',
  'Chen',
  'Rivera',
  'Okafor',
  'Smith',
  'Rossi',
  'Tanaka',
  'Khan',
  'Murphy',
  'Petrova',
  'Garcia',
  'Bello',
  'Brown',
  'Sato',
  'Dubois',
  'Ali',
  'Wagner',
  'Silva',
  'Levi',
  'Moreau',
  'Patel',
  'Berg',
  'Novak',
  'Hassan',
  'Evans',
  'Ivanova',
  'Cohen',
];
const CITIES: Array<[string, string]> = [
  ['Springfield', '62701'],
  ['Riverton', '82501'],
  ['Lakewood', '80226'],
  ['Fairview', '37062'],
  ['Madison', '53703'],
  ['Georgetown', '78626'],
  ['Salem', '97301'],
  ['Franklin', '37064'],
  ['Clinton', '52732'],
  ['Arlington', '22201'],
  ['Ashland', '97520'],
  ['Burlington', '05401'],
];
const CATEGORIES: Record<string, string[]> = {
  audio: ['Headphones', 'Speaker', 'Earbuds', 'Soundbar', 'Microphone', 'Turntable'],
  office: ['Desk Lamp', 'Monitor Stand', 'Notebook', 'Desk Chair', 'Keyboard', 'Mouse'],
  kitchen: ['Kettle', 'Blender', 'Coffee Grinder', 'Toaster', 'Chef Knife', 'Teapot'],
  outdoor: ['Backpack', 'Tent', 'Water Bottle', 'Hiking Boots', 'Rain Jacket', 'Camp Stove'],
  home: ['Throw Blanket', 'Table Lamp', 'Plant Pot', 'Wall Clock', 'Candle Set', 'Rug'],
};
const ADJECTIVES = [
  'Aurora',
  'Summit',
  'Nimbus',
  'Cedar',
  'Harbor',
  'Lumen',
  'Terra',
  'Quartz',
  'Vista',
  'Ember',
  'Atlas',
  'Pioneer',
  'Coral',
  'Granite',
  'Meadow',
];
const WAREHOUSES = ['east', 'west', 'central'];
const CARRIERS = ['UPS', 'FedEx', 'DHL', 'USPS'];
const LOCATIONS = ['Memphis hub', 'Louisville hub', 'Chicago depot', 'Dallas depot', 'Newark sort centre'];
const REPS = ['Alex Morgan', 'Sam Lee', 'Jordan Reyes'];

/** Knowledge-base topics: [category, title, body, tags]; expanded into ~60 articles. */
const KB_TOPICS: Array<[string, string, string, string]> = [
  [
    'returns',
    'Return policy',
    'Items can be returned within 30 days of delivery in original condition. Refunds go to the original payment method within 5-7 business days.',
    'return refund policy 30 days',
  ],
  [
    'returns',
    'How to start a return',
    'Open your order, choose Return item, print the prepaid label and drop the parcel at any carrier location.',
    'return label start parcel',
  ],
  [
    'returns',
    'Refund timelines',
    'Card refunds take 5-7 business days; bank transfers up to 10. PayPal refunds are usually instant.',
    'refund timeline card bank paypal',
  ],
  [
    'returns',
    'Damaged or defective items',
    'Report damaged items within 14 days with a photo; we send a replacement or a full refund without needing a return.',
    'damaged defective broken replacement',
  ],
  [
    'shipping',
    'Shipping times',
    'Standard shipping takes 3-5 business days, express 1-2. Orders placed before 2pm ship the same day.',
    'shipping delivery time express standard',
  ],
  [
    'shipping',
    'Tracking your parcel',
    'Every shipment has a tracking number (TRK-...). Tracking updates can lag the carrier by up to 12 hours.',
    'tracking parcel carrier number',
  ],
  [
    'shipping',
    'Lost or late parcels',
    'If a parcel is more than 5 days late we open a carrier investigation and reship or refund.',
    'lost late missing parcel delay',
  ],
  [
    'shipping',
    'International shipping',
    'We ship to 30 countries. Duties are prepaid at checkout so there are no surprise fees on delivery.',
    'international customs duties countries',
  ],
  [
    'shipping',
    'Changing a delivery address',
    'The address can be changed until the label is created. After that, ask the carrier to redirect the parcel.',
    'address change delivery redirect',
  ],
  [
    'billing',
    'Payment methods',
    'We accept cards, bank transfer and PayPal. Bank transfers clear in 1-2 business days.',
    'payment methods card paypal bank',
  ],
  [
    'billing',
    'Invoices and receipts',
    'Invoices are emailed when an order is paid and can be downloaded from your account at any time.',
    'invoice receipt download vat',
  ],
  [
    'billing',
    'Discount codes',
    'One discount code per order, applied before payment. Codes have a minimum order value and an expiry date.',
    'discount code coupon promo voucher',
  ],
  [
    'billing',
    'Double charges',
    'A pending authorisation can look like a double charge; it disappears within 3 days. Contact us if both settle.',
    'double charge charged twice authorisation',
  ],
  [
    'account',
    'Resetting your password',
    'Use Forgot password on the sign-in page; the reset link is valid for one hour.',
    'password reset login sign in',
  ],
  [
    'account',
    'Verifying your identity',
    'For account changes we verify identity with your date of birth or postcode on file.',
    'identity verification security',
  ],
  [
    'account',
    'Deleting your account',
    'You can request deletion of your account and data; we confirm within 30 days as required by law.',
    'delete account privacy data gdpr',
  ],
  [
    'account',
    'Loyalty tiers',
    'Gold and platinum members get free express shipping and a dedicated support line.',
    'loyalty tier gold platinum membership',
  ],
  [
    'products',
    'Warranty coverage',
    'All products carry a 2-year warranty against manufacturing defects. Keep your order number as proof.',
    'warranty guarantee defect repair',
  ],
  [
    'products',
    'Product care',
    'Clean electronics with a dry cloth; kitchen items are dishwasher safe unless the label says otherwise.',
    'care cleaning maintenance dishwasher',
  ],
  [
    'products',
    'Out-of-stock items',
    'Out-of-stock items are usually restocked within 2 weeks; you can ask to be notified.',
    'stock restock availability notify',
  ],
];
const KB_VARIANTS = ['', ' (FAQ)', ' (for business customers)'];

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const isoDay = (d: Date): string => d.toISOString().slice(0, 10);

function seed(db: DatabaseSync, seedValue: number): void {
  const rand = mulberry32(seedValue);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const epoch = new Date(BUSINESS_EPOCH).getTime();
  const daysAgo = (days: number, hour = 9): string =>
    new Date(epoch - days * 86_400_000 + (hour - 9) * 3_600_000).toISOString();

  const own = !db.isTransaction;
  if (own) db.exec('BEGIN');
  const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  meta.run('schema_version', String(SCHEMA_VERSION));
  meta.run('seed', String(seedValue));

  const customerIds: string[] = [];
  const insCustomer = db.prepare(
    'INSERT INTO customers (id, name, email, phone, tier, language, city, postcode, date_of_birth, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)',
  );
  const emails = new Set<string>();
  for (let i = 1; i <= 300; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    let email = `${first}.${last}@example.com`.toLowerCase();
    if (emails.has(email)) email = `${first}.${last}${i}@example.com`.toLowerCase();
    emails.add(email);
    const [city, postcode] = pick(CITIES);
    const tierRoll = rand();
    const tier = tierRoll < 0.1 ? 'platinum' : tierRoll < 0.3 ? 'gold' : 'standard';
    const langRoll = rand();
    const language = langRoll < 0.75 ? 'en' : langRoll < 0.87 ? 'es' : langRoll < 0.95 ? 'fr' : 'de';
    const dob = `${int(1950, 2004)}-${pad(int(1, 12), 2)}-${pad(int(1, 28), 2)}`;
    const id = `CUS-${pad(i, 4)}`;
    customerIds.push(id);
    insCustomer.run(
      id,
      `${first} ${last}`,
      email,
      `+1-555-${pad(int(0, 9999), 4)}`,
      tier,
      language,
      city,
      postcode,
      dob,
      daysAgo(int(30, 900)),
    );
  }

  const products: Array<{ id: string; price: number }> = [];
  const insProduct = db.prepare(
    'INSERT INTO products (id, name, category, price_cents, stock, reorder_level, warehouse) VALUES (?,?,?,?,?,?,?)',
  );
  const productNames = new Set<string>();
  const categories = Object.keys(CATEGORIES);
  for (let i = 1; products.length < 150; i++) {
    const category = categories[i % categories.length] as string;
    const name = `${pick(ADJECTIVES)} ${pick(CATEGORIES[category] ?? [])}`;
    if (productNames.has(name)) continue;
    productNames.add(name);
    const id = `SKU-${1000 + products.length + 1}`;
    const price = int(8, 320) * 100 - 1;
    const stockRoll = rand();
    const stock = stockRoll < 0.08 ? 0 : stockRoll < 0.2 ? int(1, 9) : int(10, 400);
    insProduct.run(id, name, category, price, stock, 10, pick(WAREHOUSES));
    products.push({ id, price });
  }

  const insOrder = db.prepare(
    'INSERT INTO orders (id, customer_id, status, created_at, subtotal_cents, total_cents) VALUES (?,?,?,?,?,?)',
  );
  const insItem = db.prepare(
    'INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (?,?,?,?)',
  );
  const insShipment = db.prepare(
    'INSERT INTO shipments (id, order_id, carrier, tracking_number, status, shipped_at, eta, last_location, carrier_failures_remaining) VALUES (?,?,?,?,?,?,?,?,?)',
  );
  const insPayment = db.prepare(
    'INSERT INTO payments (id, order_id, amount_cents, method, status, created_at) VALUES (?,?,?,?,?,?)',
  );
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let shipmentNo = 0;
  let paymentNo = 0;
  for (let i = 1; i <= 2000; i++) {
    const id = `ORD-${10000 + i}`;
    const customer = pick(customerIds);
    // Older orders are further along; the newest ones may still be pending.
    const age = rand() < 0.06 ? int(0, 2) : int(0, 365);
    const roll = rand();
    const status =
      age < 3
        ? roll < 0.5
          ? 'pending'
          : 'paid'
        : age < 10
          ? roll < 0.15
            ? 'paid'
            : roll < 0.75
              ? 'shipped'
              : 'delivered'
          : roll < 0.04
            ? 'cancelled'
            : 'delivered';
    const lines = int(1, 3);
    let subtotal = 0;
    const chosen = new Set<string>();
    const items: Array<[string, number, number]> = [];
    for (let l = 0; l < lines; l++) {
      const product = pick(products);
      if (chosen.has(product.id)) continue;
      chosen.add(product.id);
      const qty = int(1, 3);
      subtotal += qty * product.price;
      items.push([product.id, qty, product.price]);
    }
    const createdAt = daysAgo(age, int(8, 20));
    insOrder.run(id, customer, status, createdAt, subtotal, subtotal);
    for (const [productId, qty, price] of items) insItem.run(id, productId, qty, price);
    if (status !== 'pending' && status !== 'cancelled') {
      paymentNo++;
      insPayment.run(
        `PAY-${pad(paymentNo, 5)}`,
        id,
        subtotal,
        pick(['card', 'card', 'paypal', 'bank_transfer']),
        'captured',
        createdAt,
      );
    }
    if (status === 'shipped' || status === 'delivered') {
      shipmentNo++;
      let tracking = 'TRK-';
      for (let c = 0; c < 8; c++) tracking += alphabet[Math.floor(rand() * alphabet.length)];
      const shippedAt = daysAgo(Math.max(age - 1, 0));
      const eta = isoDay(new Date(new Date(shippedAt).getTime() + int(2, 5) * 86_400_000));
      const shipStatus =
        status === 'delivered'
          ? 'delivered'
          : pick(['in_transit', 'in_transit', 'out_for_delivery', 'exception']);
      // About one shipment in eight hits a flaky carrier API once, so retries show up in traces.
      const flaky = shipmentNo % 8 === 3 ? 1 : 0;
      insShipment.run(
        `SHP-${pad(shipmentNo, 5)}`,
        id,
        pick(CARRIERS),
        tracking,
        shipStatus,
        shippedAt,
        eta,
        status === 'delivered' ? 'Delivered to recipient' : pick(LOCATIONS),
        flaky,
      );
    }
  }

  const insTicket = db.prepare(
    'INSERT INTO tickets (id, customer_id, subject, description, priority, status, created_at) VALUES (?,?,?,?,?,?,?)',
  );
  const ticketSubjects = [
    'Late delivery',
    'Wrong item received',
    'Billing question',
    'Damaged parcel',
    'Password reset',
    'Warranty claim',
    'Change of address',
  ];
  for (let i = 1; i <= 120; i++) {
    const subject = pick(ticketSubjects);
    insTicket.run(
      `TCK-${5000 + i}`,
      pick(customerIds),
      subject,
      `${subject} reported by the customer.`,
      pick(['low', 'normal', 'normal', 'high']),
      pick(['open', 'open', 'pending', 'closed']),
      daysAgo(int(0, 120)),
    );
  }

  const insArticle = db.prepare(
    'INSERT INTO kb_articles (id, title, category, body, tags) VALUES (?,?,?,?,?)',
  );
  let articleNo = 0;
  for (const variant of KB_VARIANTS) {
    for (const [category, title, body, tags] of KB_TOPICS) {
      articleNo++;
      insArticle.run(`KB-${pad(articleNo, 3)}`, title + variant, category, body, tags);
    }
  }

  const insCode = db.prepare(
    'INSERT INTO discount_codes (code, percent_off, min_order_cents, expires_at, active, max_uses, uses) VALUES (?,?,?,?,?,?,?)',
  );
  const codes: Array<[string, number, number, number, number, number]> = [
    // code, percent, min order $, expires in days (negative = expired), active, max uses
    ['WELCOME10', 10, 0, 180, 1, 10000],
    ['SAVE15', 15, 50, 60, 1, 5000],
    ['VIP20', 20, 100, 90, 1, 1000],
    ['SPRING25', 25, 150, -10, 1, 1000],
    ['SUMMER30', 30, 200, 45, 1, 200],
    ['FLASH40', 40, 0, 2, 1, 50],
    ['LOYAL5', 5, 0, 365, 1, 100000],
    ['BULK12', 12, 300, 120, 1, 500],
    ['OLDCODE50', 50, 0, 30, 0, 100],
    ['STUDENT15', 15, 0, 200, 1, 3000],
    ['HOLIDAY20', 20, 80, -40, 1, 2000],
    ['FREESHIP8', 8, 25, 30, 1, 8000],
  ];
  for (const [code, pct, min, days, active, maxUses] of codes) {
    insCode.run(code, pct, min * 100, daysAgo(-days), active, maxUses, int(0, 40));
  }

  const insSlot = db.prepare(
    'INSERT INTO calendar_slots (id, starts_at, representative, status) VALUES (?,?,?,?)',
  );
  let slotNo = 0;
  for (let day = 0; day < 14; day++) {
    const date = new Date(epoch + day * 86_400_000);
    const weekday = date.getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    for (let hour = 9; hour < 17; hour++) {
      for (const rep of REPS) {
        slotNo++;
        const startsAt = `${isoDay(date)}T${pad(hour, 2)}:00:00.000Z`;
        insSlot.run(`SLOT-${pad(slotNo, 4)}`, startsAt, rep, rand() < 0.3 ? 'booked' : 'free');
      }
    }
  }
  if (own) db.exec('COMMIT');
}

/**
 * Open the business database at `path`, creating and seeding it when it does not exist yet.
 * @example
 * const biz = openBusinessDb('.switchboard/business.db');
 * biz.db.prepare('SELECT count(*) AS n FROM orders').get(); // { n: 2000 }
 */
export function openBusinessDb(path: string, options: OpenBusinessDbOptions = {}): BusinessDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
  // Several processes may open a fresh data directory at once: the first to take the write lock
  // creates and seeds in one transaction; the others then find it seeded.
  db.exec('BEGIN IMMEDIATE');
  try {
    const seeded =
      db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'customers'").get() !==
      undefined;
    if (!seeded) {
      db.exec(SCHEMA);
      seed(db, options.seed ?? DEFAULT_SEED);
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
  const clock = options.now ?? (() => new Date(BUSINESS_EPOCH));
  return { db, path, now: clock, close: () => db.close() };
}

/** Delete the business database at `path` and create it again from the seed. */
export function resetBusinessDb(path: string, options: OpenBusinessDbOptions = {}): BusinessDb {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  return openBusinessDb(path, options);
}

/** Row counts per table, for the demo banner and tests. */
export function businessStats(biz: BusinessDb): Record<string, number> {
  const tables = [
    'customers',
    'products',
    'orders',
    'shipments',
    'payments',
    'refunds',
    'tickets',
    'kb_articles',
    'discount_codes',
    'calendar_slots',
    'outbox',
    'feedback',
    'escalations',
  ];
  const stats: Record<string, number> = {};
  for (const table of tables) {
    const row = biz.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
    stats[table] = row.n;
  }
  return stats;
}

/** Dollars (as a user says them) to integer cents. */
export const toCents = (dollars: number): number => Math.round(dollars * 100);
/** Integer cents to dollars with two decimals. */
export const toDollars = (cents: number): number => Math.round(cents) / 100;
/** "$1,234.50" */
export const money = (cents: number): string =>
  `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
