// The frameworks bench/peers knows, with the npm package whose version identifies each and whether
// its runs survive a process crash (`durable`: every step is in a store on disk or in a database
// before the run goes on), and where that state lives (`store`: durable frameworks are compared on
// the same store). run.ts reads this list; a framework's adapter is frameworks/<name>.ts.
export interface Framework {
  name: string;
  label: string;
  pkg: string;
  durable: boolean;
  store: 'memory' | 'sqlite' | 'postgres';
}

export const FRAMEWORKS: Framework[] = [
  {
    name: 'switchboard-sqlite',
    label: 'Switchboard (SQLite, durable)',
    pkg: 'switchboard',
    durable: true,
    store: 'sqlite',
  },
  {
    name: 'switchboard-memory',
    label: 'Switchboard (in-memory store)',
    pkg: 'switchboard',
    durable: false,
    store: 'memory',
  },
  {
    name: 'switchboard-sqlite-normal',
    label: 'Switchboard (SQLite, synchronous=NORMAL; diagnostic)',
    pkg: 'switchboard',
    durable: true,
    store: 'sqlite',
  },
  {
    name: 'switchboard-postgres',
    label: 'Switchboard (PostgreSQL, durable)',
    pkg: 'switchboard',
    durable: true,
    store: 'postgres',
  },
  {
    name: 'langgraph',
    label: 'LangGraph.js + supervisor',
    pkg: '@langchain/langgraph',
    durable: false,
    store: 'memory',
  },
  {
    name: 'langgraph-sqlite',
    label: 'LangGraph.js + supervisor (SqliteSaver, durable)',
    pkg: '@langchain/langgraph-checkpoint-sqlite',
    durable: true,
    store: 'sqlite',
  },
  {
    name: 'langgraph-postgres',
    label: 'LangGraph.js + supervisor (PostgresSaver, durable)',
    pkg: '@langchain/langgraph-checkpoint-postgres',
    durable: true,
    store: 'postgres',
  },
  {
    name: 'openai-agents',
    label: 'OpenAI Agents SDK',
    pkg: '@openai/agents',
    durable: false,
    store: 'memory',
  },
  { name: 'mastra', label: 'Mastra', pkg: '@mastra/core', durable: false, store: 'memory' },
  {
    name: 'mastra-libsql',
    label: 'Mastra (LibSQLStore memory, durable)',
    pkg: '@mastra/libsql',
    durable: true,
    store: 'sqlite',
  },
  {
    name: 'mastra-pg',
    label: 'Mastra (PostgresStore memory, durable)',
    pkg: '@mastra/pg',
    durable: true,
    store: 'postgres',
  },
  { name: 'strands', label: 'Strands Agents', pkg: '@strands-agents/sdk', durable: false, store: 'memory' },
];
