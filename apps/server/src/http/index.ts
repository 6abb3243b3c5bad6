// The HTTP shell's public surface; domain routes import from here.
export { buildHttpApp, DEFAULT_BODY_LIMIT, type HttpAppOptions } from './app.ts';
export { bearerAuth, bearerToken, authOf } from './auth.ts';
export { errorHandler, notFoundHandler, installErrorHandlers, toDomainError, zodFieldIssues, isUnavailableError, unavailableReason } from './errors.ts';
export { registerHealthRoutes, DEFAULT_CHECK_TIMEOUT_MS, type ReadinessCheck, type HealthRoutesOptions } from './health.ts';
export { loggerOptions, genReqId, sanitizeUrl, serializers, REDACT_PATHS, REQUEST_ID_HEADER, type LoggerConfig } from './logging.ts';
export { createHttpMetrics, installHttpMetrics, HTTP_DURATION_METRIC, type HttpMetrics } from './metrics.ts';
export {
  sendProblem,
  statusFor,
  titleFor,
  problemType,
  problemBody,
  PROBLEM_CONTENT_TYPE,
  RETRY_AFTER_SECONDS,
  type ProblemBody,
} from './problem.ts';
