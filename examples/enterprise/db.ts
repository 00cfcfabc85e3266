/**
 * The reference business: the company's data (customers, orders, tickets, …) that the enterprise
 * tools read and change, separate from Switchboard's own store. One async query interface, two
 * adapters: an embedded SQLite file (`node:sqlite`) and, when Switchboard's store is PostgreSQL, a
 * schema of its own there (`db-postgres.ts`) so several processes share it. SQL is written once, with
 * `?` placeholders, in the dialect both accept. Both are created and seeded deterministically from a
 * seed value on first open: the same seed gives the same rows on either backend.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ToolError } from '../../src/core/errors.ts';
import { mulberry32 } from '../../src/core/random.ts';

/** The seed of the default data set; scenarios are written against it. */
export const DEFAULT_SEED = 20250602;
/** "Today" in the seeded world: order dates, expiries and calendar slots are relative to it. */
export const BUSINESS_EPOCH = '2025-06-02T09:00:00.000Z';
const SCHEMA_VERSION = 1;

/** A bound value: every column is TEXT or INTEGER. */
export type SqlParam = string | number | null;
export type Row = Record<string, unknown>;

/**
 * Statements with `?` placeholders. Rows are plain objects; integers (`count(*)` and `sum()`
 * included) come back as numbers on both backends.
 */
export interface BusinessQueries {
  get<T = Row>(sql: string, ...params: SqlParam[]): Promise<T | undefined>;
  all<T = Row>(sql: string, ...params: SqlParam[]): Promise<T[]>;
  run(sql: string, ...params: SqlParam[]): Promise<{ changes: number }>;
}

/** The statements of one open transaction. */
export type BusinessTx = BusinessQueries;

/** An open business database and the clock the tools use for timestamps. */
export interface BusinessDb extends BusinessQueries {
  readonly kind: 'sqlite' | 'postgres';
  /** The file path, or `postgres:<schema>`. */
  readonly path: string;
  /** Business time; fixed by default so scenario runs are reproducible. */
  now(): Date;
  /**
   * One row, synchronously, for the hooks the runtime calls synchronously (`requiresApproval`). It
   * blocks the event loop for one query; everything else uses {@link get}.
   */
  getSync<T = Row>(sql: string, ...params: SqlParam[]): T | undefined;
  /**
   * Run `fn` in one transaction that holds the write lock (one writer at a time, on either backend):
   * commit when it resolves, roll back when it throws. Inside `fn`, use `tx`, never this object: on
   * SQLite its statements wait for the transaction to end.
   */
  transaction<T>(fn: (tx: BusinessTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenBusinessDbOptions {
  seed?: number;
  /** Clock for new rows; defaults to the fixed business epoch. */
  now?: () => Date;
}

export interface OpenPostgresBusinessDbOptions extends OpenBusinessDbOptions {
  url: string;
  /** The schema that holds the business tables, created when missing; a plain identifier. */
  schema: string;
  /** Drop the schema and seed it again. */
  reset?: boolean | undefined;
}

/** The fixed business clock, unless the caller passes one. */
export const businessClock = (options: OpenBusinessDbOptions): (() => Date) =>
  options.now ?? (() => new Date(BUSINESS_EPOCH));

/**
 * Check and normalise bound values, the same on both backends. PostgreSQL text cannot hold NUL, so
 * a NUL is refused (not retryable) before any statement runs, on SQLite too. UTF-8 has no lone
 * surrogates: both drivers would write U+FFFD, and so does this, explicitly.
 */
export function storable(params: readonly SqlParam[]): SqlParam[] {
  return params.map((p) => {
    if (typeof p !== 'string') return p;
    if (p.includes('\u0000')) {
      throw new ToolError(
        'the text contains a NUL character (\\u0000), which the business data cannot store',
        {
          retryable: false,
        },
      );
    }
    return p.isWellFormed() ? p : p.toWellFormed();
  });
}

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

/**
 * The tables in either dialect. On PostgreSQL text compares bytewise (`COLLATE "C"`, as SQLite's
 * BINARY does), so every ORDER BY and range filter gives the same rows on both backends.
 */
export function schemaSql(dialect: 'sqlite' | 'postgres'): string {
  if (dialect === 'sqlite') return SCHEMA;
  return SCHEMA.replace(/\bTEXT\b/g, 'TEXT COLLATE "C"').replace(
    'INTEGER PRIMARY KEY AUTOINCREMENT',
    'INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY',
  );
}

/** First names, last names and product adjectives, one list a line. */
const [FIRST, LAST, ADJECTIVES] = `
Jane Omar Priya Lucas Mei Carlos Amara Noah Sofia Kenji Fatima Liam Elena Mateo Aisha Ethan Yuki Hugo Zara Felix Ines David Chloe Ravi Greta Tomas Leila Owen Nadia Samuel Ivy Marco Hana Jonas Alba Victor
Cooper Haddad Sharma Martin Chen Rivera Okafor Smith Rossi Tanaka Khan Murphy Petrova Garcia Bello Brown Sato Dubois Ali Wagner Silva Levi Moreau Patel Berg Novak Hassan Evans Ivanova Cohen
Aurora Summit Nimbus Cedar Harbor Lumen Terra Quartz Vista Ember Atlas Pioneer Coral Granite Meadow
`
  .trim()
  .split('\n')
  .map((line) => line.split(' ')) as [string[], string[], string[]];
const CITIES = (
  'Springfield 62701, Riverton 82501, Lakewood 80226, Fairview 37062, Madison 53703, Georgetown 78626, ' +
  'Salem 97301, Franklin 37064, Clinton 52732, Arlington 22201, Ashland 97520, Burlington 05401'
)
  .split(', ')
  .map((c) => c.split(' ') as [string, string]);
const CATEGORIES: Record<string, string[]> = {
  audio: ['Headphones', 'Speaker', 'Earbuds', 'Soundbar', 'Microphone', 'Turntable'],
  office: ['Desk Lamp', 'Monitor Stand', 'Notebook', 'Desk Chair', 'Keyboard', 'Mouse'],
  kitchen: ['Kettle', 'Blender', 'Coffee Grinder', 'Toaster', 'Chef Knife', 'Teapot'],
  outdoor: ['Backpack', 'Tent', 'Water Bottle', 'Hiking Boots', 'Rain Jacket', 'Camp Stove'],
  home: ['Throw Blanket', 'Table Lamp', 'Plant Pot', 'Wall Clock', 'Candle Set', 'Rug'],
};
const WAREHOUSES = ['east', 'west', 'central'];
const CARRIERS = ['UPS', 'FedEx', 'DHL', 'USPS'];
const LOCATIONS = ['Memphis hub', 'Louisville hub', 'Chicago depot', 'Dallas depot', 'Newark sort centre'];
const REPS = ['Alex Morgan', 'Sam Lee', 'Jordan Reyes'];

/** Knowledge-base topics, one a line: category | title | body | tags; expanded into 60 articles. */
const KB_TOPICS = `
returns | Return policy | Items can be returned within 30 days of delivery in original condition. Refunds go to the original payment method within 5-7 business days. | return refund policy 30 days
returns | How to start a return | Open your order, choose Return item, print the prepaid label and drop the parcel at any carrier location. | return label start parcel
returns | Refund timelines | Card refunds take 5-7 business days; bank transfers up to 10. PayPal refunds are usually instant. | refund timeline card bank paypal
returns | Damaged or defective items | Report damaged items within 14 days with a photo; we send a replacement or a full refund without needing a return. | damaged defective broken replacement
shipping | Shipping times | Standard shipping takes 3-5 business days, express 1-2. Orders placed before 2pm ship the same day. | shipping delivery time express standard
shipping | Tracking your parcel | Every shipment has a tracking number (TRK-...). Tracking updates can lag the carrier by up to 12 hours. | tracking parcel carrier number
shipping | Lost or late parcels | If a parcel is more than 5 days late we open a carrier investigation and reship or refund. | lost late missing parcel delay
shipping | International shipping | We ship to 30 countries. Duties are prepaid at checkout so there are no surprise fees on delivery. | international customs duties countries
shipping | Changing a delivery address | The address can be changed until the label is created. After that, ask the carrier to redirect the parcel. | address change delivery redirect
billing | Payment methods | We accept cards, bank transfer and PayPal. Bank transfers clear in 1-2 business days. | payment methods card paypal bank
billing | Invoices and receipts | Invoices are emailed when an order is paid and can be downloaded from your account at any time. | invoice receipt download vat
billing | Discount codes | One discount code per order, applied before payment. Codes have a minimum order value and an expiry date. | discount code coupon promo voucher
billing | Double charges | A pending authorisation can look like a double charge; it disappears within 3 days. Contact us if both settle. | double charge charged twice authorisation
account | Resetting your password | Use Forgot password on the sign-in page; the reset link is valid for one hour. | password reset login sign in
account | Verifying your identity | For account changes we verify identity with your date of birth or postcode on file. | identity verification security
account | Deleting your account | You can request deletion of your account and data; we confirm within 30 days as required by law. | delete account privacy data gdpr
account | Loyalty tiers | Gold and platinum members get free express shipping and a dedicated support line. | loyalty tier gold platinum membership
products | Warranty coverage | All products carry a 2-year warranty against manufacturing defects. Keep your order number as proof. | warranty guarantee defect repair
products | Product care | Clean electronics with a dry cloth; kitchen items are dishwasher safe unless the label says otherwise. | care cleaning maintenance dishwasher
products | Out-of-stock items | Out-of-stock items are usually restocked within 2 weeks; you can ask to be notified. | stock restock availability notify
`
  .trim()
  .split('\n')
  .map((line) => line.split(' | ') as [string, string, string, string]);
const KB_VARIANTS = ['', ' (FAQ)', ' (for business customers)'];

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const isoDay = (d: Date): string => d.toISOString().slice(0, 10);

/** The rows of one table in insertion order (foreign keys point backwards). */
export interface SeedTable {
  table: string;
  columns: string[];
  rows: SqlParam[][];
}

/**
 * The seeded data set as plain rows, so both backends insert exactly the same values. The order of
 * `rand()` calls is the data set: reordering them changes every scenario's world.
 */
export function seedRows(seedValue: number): SeedTable[] {
  const rand = mulberry32(seedValue);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const epoch = new Date(BUSINESS_EPOCH).getTime();
  const daysAgo = (days: number, hour = 9): string =>
    new Date(epoch - days * 86_400_000 + (hour - 9) * 3_600_000).toISOString();
  const tables: SeedTable[] = [];
  const table = (name: string, columns: string): SqlParam[][] => {
    const rows: SqlParam[][] = [];
    tables.push({ table: name, columns: columns.split(','), rows });
    return rows;
  };

  table('meta', 'key,value').push(['schema_version', String(SCHEMA_VERSION)], ['seed', String(seedValue)]);

  const customers = table(
    'customers',
    'id,name,email,phone,tier,language,city,postcode,date_of_birth,created_at',
  );
  const customerIds: string[] = [];
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
    const [name, phone] = [`${first} ${last}`, `+1-555-${pad(int(0, 9999), 4)}`];
    customers.push([id, name, email, phone, tier, language, city, postcode, dob, daysAgo(int(30, 900))]);
  }

  const productRows = table('products', 'id,name,category,price_cents,stock,reorder_level,warehouse');
  const products: Array<{ id: string; price: number }> = [];
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
    productRows.push([id, name, category, price, stock, 10, pick(WAREHOUSES)]);
    products.push({ id, price });
  }

  const orders = table('orders', 'id,customer_id,status,created_at,subtotal_cents,total_cents');
  const orderItems = table('order_items', 'order_id,product_id,quantity,unit_price_cents');
  const payments = table('payments', 'id,order_id,amount_cents,method,status,created_at');
  const shipments = table(
    'shipments',
    'id,order_id,carrier,tracking_number,status,shipped_at,eta,last_location,carrier_failures_remaining',
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
    orders.push([id, customer, status, createdAt, subtotal, subtotal]);
    for (const [productId, qty, price] of items) orderItems.push([id, productId, qty, price]);
    if (status !== 'pending' && status !== 'cancelled') {
      paymentNo++;
      const method = pick(['card', 'card', 'paypal', 'bank_transfer']);
      payments.push([`PAY-${pad(paymentNo, 5)}`, id, subtotal, method, 'captured', createdAt]);
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
      const carrier = pick(CARRIERS);
      const location = status === 'delivered' ? 'Delivered to recipient' : pick(LOCATIONS);
      const sid = `SHP-${pad(shipmentNo, 5)}`;
      shipments.push([sid, id, carrier, tracking, shipStatus, shippedAt, eta, location, flaky]);
    }
  }

  const tickets = table('tickets', 'id,customer_id,subject,description,priority,status,created_at');
  const ticketSubjects =
    'Late delivery, Wrong item received, Billing question, Damaged parcel, Password reset, Warranty claim, Change of address'.split(
      ', ',
    );
  for (let i = 1; i <= 120; i++) {
    const subject = pick(ticketSubjects);
    const customer = pick(customerIds);
    const description = `${subject} reported by the customer.`;
    const priority = pick(['low', 'normal', 'normal', 'high']);
    const status = pick(['open', 'open', 'pending', 'closed']);
    tickets.push([`TCK-${5000 + i}`, customer, subject, description, priority, status, daysAgo(int(0, 120))]);
  }

  const articles = table('kb_articles', 'id,title,category,body,tags');
  for (const variant of KB_VARIANTS) {
    for (const [category, title, body, tags] of KB_TOPICS) {
      articles.push([`KB-${pad(articles.length + 1, 3)}`, title + variant, category, body, tags]);
    }
  }

  const codes = table('discount_codes', 'code,percent_off,min_order_cents,expires_at,active,max_uses,uses');
  const codeSpecs: Array<[string, number, number, number, number, number]> = [
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
  for (const [code, pct, min, days, active, maxUses] of codeSpecs) {
    codes.push([code, pct, min * 100, daysAgo(-days), active, maxUses, int(0, 40)]);
  }

  const slots = table('calendar_slots', 'id,starts_at,representative,status');
  for (let day = 0; day < 14; day++) {
    const date = new Date(epoch + day * 86_400_000);
    const weekday = date.getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    for (let hour = 9; hour < 17; hour++) {
      for (const rep of REPS) {
        const startsAt = `${isoDay(date)}T${pad(hour, 2)}:00:00.000Z`;
        slots.push([`SLOT-${pad(slots.length + 1, 4)}`, startsAt, rep, rand() < 0.3 ? 'booked' : 'free']);
      }
    }
  }
  return tables;
}

/** The business database on one SQLite connection. */
class SqliteBusinessDb implements BusinessDb {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  readonly now: () => Date;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /**
   * Settles when the open transaction ends; statements outside it wait, or they would join it. Every
   * caller checks it in a loop right before its statement, in the same synchronous step: a check in
   * a helper that is awaited would leave a gap where a transaction could start.
   */
  #busy: Promise<void> | null = null;
  readonly #tx: BusinessTx;

  constructor(db: DatabaseSync, path: string, now: () => Date) {
    this.#db = db;
    this.path = path;
    this.now = now;
    this.#tx = {
      get: async <T>(sql: string, ...params: SqlParam[]) => this.getSync<T>(sql, ...params),
      all: async <T>(sql: string, ...params: SqlParam[]) => this.#all<T>(sql, params),
      run: async (sql: string, ...params: SqlParam[]) => this.#run(sql, params),
    };
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) this.#statements.set(sql, (statement = this.#db.prepare(sql)));
    return statement;
  }

  // node:sqlite rows have a null prototype: copy them into plain objects, as pg returns.
  #all<T>(sql: string, params: SqlParam[]): T[] {
    return this.#prepare(sql)
      .all(...storable(params))
      .map((r) => ({ ...r }) as T);
  }

  #run(sql: string, params: SqlParam[]): { changes: number } {
    return { changes: Number(this.#prepare(sql).run(...storable(params)).changes) };
  }

  getSync<T = Row>(sql: string, ...params: SqlParam[]): T | undefined {
    const row = this.#prepare(sql).get(...storable(params));
    return row ? ({ ...row } as T) : undefined;
  }

  async get<T = Row>(sql: string, ...params: SqlParam[]): Promise<T | undefined> {
    while (this.#busy) await this.#busy;
    return this.getSync<T>(sql, ...params);
  }

  async all<T = Row>(sql: string, ...params: SqlParam[]): Promise<T[]> {
    while (this.#busy) await this.#busy;
    return this.#all<T>(sql, params);
  }

  async run(sql: string, ...params: SqlParam[]): Promise<{ changes: number }> {
    while (this.#busy) await this.#busy;
    return this.#run(sql, params);
  }

  async transaction<T>(fn: (tx: BusinessTx) => Promise<T>): Promise<T> {
    while (this.#busy) await this.#busy;
    // Claimed in the same synchronous step as the check above: no other caller can slip in between.
    let release = (): void => {};
    this.#busy = new Promise<void>((resolve) => (release = resolve));
    try {
      // IMMEDIATE takes the write lock now, so other processes on the same file wait (busy_timeout).
      this.#db.exec('BEGIN IMMEDIATE');
      const result = await fn(this.#tx);
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    } finally {
      this.#busy = null;
      release();
    }
  }

  async close(): Promise<void> {
    while (this.#busy) await this.#busy;
    this.#db.close();
  }
}

/**
 * Open the business database at `path` (SQLite), creating and seeding it when it does not exist yet.
 * @example
 * const biz = openBusinessDb('.switchboard/business.db');
 * await biz.get('SELECT count(*) AS n FROM orders'); // { n: 2000 }
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
      db.exec(schemaSql('sqlite'));
      for (const { table, columns, rows } of seedRows(options.seed ?? DEFAULT_SEED)) {
        const insert = db.prepare(
          `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(',')})`,
        );
        for (const row of rows) insert.run(...row);
      }
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    db.close();
    throw error;
  }
  return new SqliteBusinessDb(db, path, businessClock(options));
}

/** Delete the business database at `path` (SQLite) and create it again from the seed. */
export function resetBusinessDb(path: string, options: OpenBusinessDbOptions = {}): BusinessDb {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  return openBusinessDb(path, options);
}

/**
 * Open the business data in a PostgreSQL schema, creating the schema and tables when missing and
 * seeding them once, however many processes start together.
 * @example
 * const biz = await openPostgresBusinessDb({ url: 'postgres://localhost/app', schema: 'switchboard_business' });
 */
export async function openPostgresBusinessDb(options: OpenPostgresBusinessDbOptions): Promise<BusinessDb> {
  // Loaded on demand: a SQLite-only process never loads the pg driver.
  const { openPostgres } = await import('./db-postgres.ts');
  return openPostgres(options);
}

const BUSINESS_TABLES =
  'customers products orders shipments payments refunds tickets kb_articles discount_codes calendar_slots outbox feedback escalations'.split(
    ' ',
  );

/** Row counts per business table (not meta, order items or tool results), for the demo banner and tests. */
export async function businessStats(biz: BusinessDb): Promise<Record<string, number>> {
  const stats: Record<string, number> = {};
  for (const table of BUSINESS_TABLES) {
    const row = await biz.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
    stats[table] = row?.n ?? 0;
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
