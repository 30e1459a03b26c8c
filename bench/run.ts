/** `npm run bench`: every benchmark, one run, figures and ratios printed and saved to bench/results/latest.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { runAgentBench } from './agent.js';
import { runIngestBench } from './ingest.js';

const log = (line: string) => process.stderr.write(`${line}\n`);
const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };

const ingest = await runIngestBench(log);
const agent = await runAgentBench(log);
const results = { machine, ingest, agent };

const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);

const { ceiling, serveAckOnly, drain, serveWithWorker, postgresWebAndTwoWorkers: pgScenario } = ingest;
console.log(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`);
console.log('| webhook ingest (32 connections) | acknowledged/s | p50 | p99 | vs ceiling |');
console.log('|---|---|---|---|---|');
console.log(`| ceiling: bare node:http, HMAC only, stores nothing | ${ceiling.acknowledgedPerSecond} | ${ceiling.p50Ms} ms | ${ceiling.p99Ms} ms | 100% |`);
console.log(`| serve --role web (acknowledged after group commit) | ${serveAckOnly.acknowledgedPerSecond} | ${serveAckOnly.p50Ms} ms | ${serveAckOnly.p99Ms} ms | ${Math.round(serveAckOnly.ratioToCeiling * 100)}% |`);
console.log(`| serve with its worker in-process | ${serveWithWorker.acknowledgedPerSecond} | ${serveWithWorker.p50Ms} ms | ${serveWithWorker.p99Ms} ms | ${Math.round(serveWithWorker.ratioToCeiling * 100)}% |`);
if (pgScenario) console.log(`| PostgreSQL: 1 web + 2 workers | ${pgScenario.acknowledgedPerSecond} | ${pgScenario.p50Ms} ms | ${pgScenario.p99Ms} ms | ${Math.round(pgScenario.ratioToCeiling * 100)}% |`);
console.log(`Drain: ${drain.deliveries} deliveries into memory in ${drain.seconds} s = ${drain.perSecond}/s (dead ${drain.dead}, skipped ${drain.skipped}).`);
console.log(`With the worker in-process: ${serveWithWorker.pendingWhenLoadStopped} pending when the load stopped, caught up ${serveWithWorker.catchUpSeconds} s later.`);
if (pgScenario) console.log(`PostgreSQL, 1 web + 2 workers: ${pgScenario.processed} processed at ${pgScenario.processedPerSecond}/s over the run; ${pgScenario.pendingWhenLoadStopped} pending when the load stopped, caught up ${pgScenario.catchUpSeconds} s later.`);
console.log(`\nAgent read path: ${agent.issues} issues, ${agent.observations} observations; RSS ${agent.rssMB} MB`);
console.log('| capability, through MCP | n | p50 | p99 | max |');
console.log('|---|---|---|---|---|');
for (const [name, s] of Object.entries(agent.capabilities)) console.log(`| ${name} | ${s.n} | ${s.p50Ms} ms | ${s.p99Ms} ms | ${s.maxMs} ms |`);
for (const [name, s] of Object.entries(agent.bareFts)) console.log(`| ${name} | ${s.n} | ${s.p50Ms} ms | ${s.p99Ms} ms | ${s.maxMs} ms |`);
