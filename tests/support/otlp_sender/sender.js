#!/usr/bin/env node
// Sends a known set of spans to an OTLP endpoint with the official OpenTelemetry JavaScript SDK
// (@opentelemetry/sdk-trace-base) and one of its OTLP trace exporters, then prints what it sent.
//
//   node sender.js --protocol grpc|http/protobuf|http/json --endpoint URL
//                  [--header key=value]... [--tenant T] [--no-thread]
//
// --endpoint: "http://127.0.0.1:4317" for grpc; the full ".../v1/traces" URL for HTTP.
// --header: gRPC metadata or HTTP header sent with the export (e.g. x-project-id=p1,
//           authorization=Bearer t).
// --tenant: set the span attribute vllora.tenant on every span.
//
// Output (stdout), one JSON object per line:
//   {"span": {traceId, spanId, parentSpanId|null, name, kind (OTLP number), startTimeUnixNano,
//             endTimeUnixNano (decimal strings), attributes {...}, statusCode, statusMessage,
//             events [{name, timeUnixNano, attributes}], scope}}   one per span, then
//   {"resource": {...}}                                            the resource attributes, then
//   {"export": "ok"} or {"export": "failed", "error": "..."}
// The exit status is 0 only when the export succeeded.
'use strict';

const { ExportResultCode } = require('@opentelemetry/core');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} = require('@opentelemetry/sdk-trace-base');
const api = require('@opentelemetry/api');

function parseArgs(argv) {
  const args = { protocol: 'grpc', endpoint: '', headers: {}, tenant: '', thread: true };
  for (let i = 2; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--protocol') args.protocol = argv[++i];
    else if (a === '--endpoint') args.endpoint = argv[++i];
    else if (a === '--tenant') args.tenant = argv[++i];
    else if (a === '--no-thread') args.thread = false;
    else if (a === '--header') {
      const kv = argv[++i];
      const eq = kv.indexOf('=');
      args.headers[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else {
      throw new Error(`unknown argument ${a}`);
    }
  }
  if (!args.endpoint) throw new Error('--endpoint is required');
  return args;
}

function makeExporter(args) {
  if (args.protocol === 'grpc') {
    const grpc = require('@grpc/grpc-js');
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(args.headers)) metadata.set(k, v);
    return new OTLPTraceExporter({ url: args.endpoint, metadata });
  }
  if (args.protocol === 'http/protobuf') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
    return new OTLPTraceExporter({ url: args.endpoint, headers: args.headers });
  }
  if (args.protocol === 'http/json') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter({ url: args.endpoint, headers: args.headers });
  }
  throw new Error(`unknown protocol ${args.protocol}`);
}

const hrToNanos = (t) => (BigInt(t[0]) * 1000000000n + BigInt(t[1])).toString();

async function main() {
  const args = parseArgs(process.argv);
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlp-sender', 'deployment.environment': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('vllora.test.sender', '1.0.0');
  const common = {};
  if (args.tenant) common['vllora.tenant'] = args.tenant;
  if (args.thread) common['vllora.thread_id'] = 'thread-42';
  common['vllora.run_id'] = 'run-7';

  const base = Date.now();
  const root = tracer.startSpan('run', {
    kind: api.SpanKind.INTERNAL,
    startTime: base,
    attributes: { ...common, 'vllora.label': 'nightly', tags: '{"team":"ml","priority":2}' },
  });
  const rootContext = api.trace.setSpan(api.context.active(), root);
  const child = tracer.startSpan(
    'model_call',
    {
      kind: api.SpanKind.CLIENT,
      startTime: [Math.floor(base / 1000), 123456789],
      attributes: {
        ...common,
        'vllora.project_id': 'proj-1',
        model_name: 'gpt-4o-mini',
        'usage.tokens': 1234,
        cost: 0.0125,
        stream: true,
        'tool.names': ['search', 'calc'],
        'scores': [1, 2, 3],
        'text.unicode': 'h\u00e9llo \u2713 "quoted"\n',
        tags: 'not json',
      },
    },
    rootContext,
  );
  child.addEvent('first_token', { ttft_ms: 87, chunk: 'Hel' }, [Math.floor(base / 1000), 500000000]);
  child.setStatus({ code: api.SpanStatusCode.ERROR, message: 'rate limited' });
  child.end([Math.floor(base / 1000) + 1, 987654321]);
  const grandchild = tracer.startSpan('tool_call', { kind: api.SpanKind.SERVER, attributes: { ...common, 'tool.name': 'search' } }, api.trace.setSpan(rootContext, child));
  grandchild.setStatus({ code: api.SpanStatusCode.OK });
  grandchild.end();
  root.end(base + 5000);

  const spans = memory.getFinishedSpans();
  for (const s of spans) {
    const parent = s.parentSpanContext ? s.parentSpanContext.spanId : s.parentSpanId;
    console.log(JSON.stringify({
      span: {
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
        parentSpanId: parent || null,
        name: s.name,
        kind: s.kind + 1,  // API SpanKind (INTERNAL = 0) -> OTLP (INTERNAL = 1)
        startTimeUnixNano: hrToNanos(s.startTime),
        endTimeUnixNano: hrToNanos(s.endTime),
        attributes: s.attributes,
        statusCode: s.status.code,
        statusMessage: s.status.message || null,
        events: s.events.map((e) => ({ name: e.name, timeUnixNano: hrToNanos(e.time), attributes: e.attributes || {} })),
        scope: (s.instrumentationScope || s.instrumentationLibrary).name,
      },
    }));
  }
  console.log(JSON.stringify({ resource: spans[0].resource.attributes }));

  const exporter = makeExporter(args);
  const result = await new Promise((resolve) => exporter.export(spans, resolve));
  await exporter.shutdown().catch(() => {});
  if (result.code === ExportResultCode.SUCCESS) {
    console.log(JSON.stringify({ export: 'ok' }));
    process.exit(0);
  }
  console.log(JSON.stringify({ export: 'failed', error: String(result.error && result.error.message) }));
  process.exit(1);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(2);
});
