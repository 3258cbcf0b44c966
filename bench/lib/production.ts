/**
 * Imported first by benchmarks that compare with other libraries: they run as in production
 * (TanStack DB, for one, makes development-only checks unless NODE_ENV is 'production').
 * Reading it is up to each library at run time, and a re-exec (`ensureNodeFlags`) inherits it.
 */
process.env.NODE_ENV = 'production';
