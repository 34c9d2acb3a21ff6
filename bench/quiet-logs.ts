// Imported first by bench/run.ts, before anything creates the logger: a log line per request and activity
// would cost the service time the baseline never spends, and bury the progress lines. LOG_LEVEL=info shows them.
process.env.LOG_LEVEL ??= 'warn';
