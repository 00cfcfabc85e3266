#!/usr/bin/env node
// The `switchboard` command. Node 24 runs the TypeScript sources directly (type stripping).
import process from 'node:process';
import { main } from '../src/cli/main.ts';

await main(process.argv);
