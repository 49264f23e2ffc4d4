/**
 * Eureka application names and Weft service names. Eureka upper-cases application names (its
 * clients send `MY-SERVICE`); Weft services are conventionally lower-case (`reviews`). So:
 * - an application registered through Eureka becomes the service of its name lower-cased;
 * - every service is shown to Eureka clients under its name upper-cased;
 * - an application name in a path matches services case-insensitively, so `REVIEWS`,
 *   `reviews` and `Reviews` all find a service registered through `/api/v1` as `Reviews`.
 */
export function serviceOfApp(app: string): string {
  return app.toLowerCase();
}

/** The Eureka application name of a service. */
export function appOfService(service: string): string {
  return service.toUpperCase();
}

/** True when the application name in a path names this service. */
export function sameApp(app: string, service: string): boolean {
  return app.toLowerCase() === service.toLowerCase();
}
