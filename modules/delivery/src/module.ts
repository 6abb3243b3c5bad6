import path from 'node:path';
import type { ServiceModule } from '@countersign/modules';
import { DecisionDeliveries } from './decision-delivery.ts';
import type { DeliveryDeps } from './deps.ts';
import { destinationsFrom } from './destinations.ts';
import { checkPolicyExecutors } from './executor-check.ts';
import { send } from './outbound.ts';
import { parseDeliverySettings } from './settings.ts';
import { signingSecretRoute } from './signing-secret-route.ts';
import { loadWebhookMaster, webhookSecretFromFile } from './signing-secret.ts';

/**
 * Webhooks and held execution for final decisions. Registers `ctx.deliveries`, which the queue
 * engine's deliver-webhook and execute-action jobs call; and, where HTTP is served, the
 * endpoint that tells an API key its webhook signing secret.
 */
export const deliveryModule: ServiceModule = {
  name: 'delivery',
  register(ctx) {
    const settings = parseDeliverySettings(ctx.env);
    const destinations = destinationsFrom(settings);
    const policyPath = path.resolve(ctx.rootDir, settings.COUNTERSIGN_POLICY);
    if (!checkPolicyExecutors(policyPath, destinations, ctx.channelCatalog).checked) {
      ctx.logger.warn({ policyPath }, 'policy file not found by the delivery module; executor destinations are checked at execution only');
    }
    const webhookMaster = loadWebhookMaster({
      secret: settings.COUNTERSIGN_WEBHOOK_SECRET ?? webhookSecretFromFile(settings.COUNTERSIGN_WEBHOOK_SECRET_FILE, ctx.rootDir),
      keysDir: path.resolve(ctx.rootDir, settings.COUNTERSIGN_KEYS_DIR),
    });
    const deps: DeliveryDeps = {
      store: ctx.store,
      // A claim outlives the slowest request by a margin; a dead worker's claim lapses after it.
      rows: ctx.db.deliveries(settings.COUNTERSIGN_DELIVERY_TIMEOUT_MS + 30_000),
      destinations,
      webhookMaster,
      release: ctx.gate.deps.release,
      executorSecret: (name) => ctx.env[`COUNTERSIGN_EXECUTOR_SECRET_${name}`],
      send,
      timeoutMs: settings.COUNTERSIGN_DELIVERY_TIMEOUT_MS,
    };
    ctx.deliveries = new DecisionDeliveries(deps);
    if (ctx.role === 'all' || ctx.role === 'api') signingSecretRoute(ctx.app, ctx.keys, webhookMaster);
  },
};

