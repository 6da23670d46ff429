import { z } from 'zod';

/** A whole number above zero. */
export const positiveInt = () => z.number().int().positive();

/**
 * An SSRF guard's policy (docs/security.md), the same shape for scrape targets (`scrape.*`) and
 * webhook receivers (`webhooks.*`): public unicast addresses only, unless a CIDR is allow-listed,
 * on the allowed ports only.
 */
export const SsrfPolicySchema = z.strictObject({
  /** CIDRs that may be reached although loopback, private or link-local, e.g. `127.0.0.0/8`. */
  allowCidrs: z
    .array(z.union([z.cidrv4(), z.cidrv6()], { error: 'a CIDR such as 10.0.0.0/8 or fd00::/8' }))
    .max(1_000)
    .default([]),
  /** Ports a target (and every redirect hop) may use, or `any`. */
  allowPorts: z
    .union([z.literal('any'), z.array(z.number().int().min(1).max(65535)).min(1)], {
      error: 'a list of ports (1-65535) or "any"',
    })
    .default([80, 443, 8080, 8443]),
});
export type SsrfPolicy = z.infer<typeof SsrfPolicySchema>;
