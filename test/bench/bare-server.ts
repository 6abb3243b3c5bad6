import Fastify from 'fastify';
import pg from 'pg';
import { exitWhenOrphaned } from './orphan-guard.ts';

// The floor to compare the gate with: a bare Fastify route doing one INSERT per request on
// the same Postgres, same durability (synchronous commit), no auth, no policy, no evidence.
exitWhenOrphaned();
const databaseUrl = process.env.DATABASE_URL!;
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.POOL ?? 20) });
await pool.query('CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, body jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now())');
const app = Fastify({ logger: false });
app.post('/floor', async (request, reply) => {
  const { rows } = await pool.query('INSERT INTO bench_floor (body) VALUES ($1) RETURNING id', [request.body]);
  return reply.code(201).send({ id: rows[0].id });
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => pool.end()).then(() => process.exit(0));
});
