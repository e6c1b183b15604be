#!/usr/bin/env node
// Prints the spans an OTLP receiver wrote (tests/support/otlp_receiver, --out JSON lines) as a
// tree per trace: name, duration, and the attributes vLLora cares about.
'use strict';
const fs = require('fs');

const file = process.argv[2];
if (!file) {
  console.error('usage: print_trace.js SPANS.jsonl');
  process.exit(2);
}
const spans = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(JSON.parse)
  .filter((r) => r.record === 'span');
const KEYS = ['execution_id', 'vllora.agent_name', 'vllora.task_name', 'vllora.tool_name',
  'model_name', 'provider_name', 'retries_left', 'ttft', 'error', 'vllora.run_id', 'vllora.tenant'];

const byTrace = new Map();
for (const s of spans) {
  if (!byTrace.has(s.traceId)) byTrace.set(s.traceId, []);
  byTrace.get(s.traceId).push(s);
}
for (const [traceId, list] of byTrace) {
  const ids = new Set(list.map((s) => s.spanId));
  const children = new Map();
  for (const s of list) {
    const parent = ids.has(s.parentSpanId) ? s.parentSpanId : '';
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(s);
  }
  for (const c of children.values()) c.sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  const hex = traceId;
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  console.log(`trace ${uuid} (${list.length} spans)`);
  const walk = (parent, prefix) => {
    const kids = children.get(parent) || [];
    kids.forEach((s, i) => {
      const last = i === kids.length - 1;
      const ms = Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6;
      const attrs = KEYS.filter((k) => s.attributes[k]).map((k) => `${k}=${s.attributes[k].value}`);
      const usage = s.attributes.usage && JSON.parse(s.attributes.usage.value);
      if (usage && usage.total_tokens !== undefined) attrs.push(`tokens=${usage.total_tokens}`);
      console.log(`${prefix}${last ? '└── ' : '├── '}${s.name} ${ms.toFixed(1)} ms  ${attrs.join(' ')}`);
      walk(s.spanId, prefix + (last ? '    ' : '│   '));
    });
  };
  walk('', '');
}
