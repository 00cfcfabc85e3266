// The frameworks bench/peers knows, with the npm package whose version identifies each and whether
// its runs survive a process crash (`durable`: every step is in a store on disk or in a database
// before the run goes on). run.ts reads this list; a framework's adapter is frameworks/<name>.ts.
export interface Framework {
  name: string;
  label: string;
  pkg: string;
  durable: boolean;
}

export const FRAMEWORKS: Framework[] = [
  { name: 'switchboard-sqlite', label: 'Switchboard (SQLite, durable)', pkg: 'switchboard', durable: true },
  {
    name: 'switchboard-memory',
    label: 'Switchboard (in-memory store)',
    pkg: 'switchboard',
    durable: false,
  },
  {
    name: 'switchboard-sqlite-normal',
    label: 'Switchboard (SQLite, synchronous=NORMAL; diagnostic)',
    pkg: 'switchboard',
    durable: true,
  },
  { name: 'langgraph', label: 'LangGraph.js + supervisor', pkg: '@langchain/langgraph', durable: false },
  { name: 'openai-agents', label: 'OpenAI Agents SDK', pkg: '@openai/agents', durable: false },
  { name: 'mastra', label: 'Mastra', pkg: '@mastra/core', durable: false },
  { name: 'strands', label: 'Strands Agents', pkg: '@strands-agents/sdk', durable: false },
];
