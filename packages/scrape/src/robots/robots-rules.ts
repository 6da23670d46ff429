import robotsParser from 'robots-parser';

/** One origin's robots.txt, parsed (robots-parser: RFC 9309 groups, longest match, `*` and `$`). */
export class RobotsRules {
  private readonly robots: ReturnType<typeof robotsParser>;

  /** `origin` as `URL.origin` gives it: `https://example.com`, `http://127.0.0.5:8080`. */
  constructor(origin: string, text: string) {
    this.robots = robotsParser(`${origin}/robots.txt`, text);
  }

  /**
   * Whether the group for `token` (case-insensitive; else the `*` group) lets a crawler fetch
   * `url`. A URL of another origin is none of this file's business: allowed.
   */
  allows(url: string, token: string): boolean {
    return this.robots.isAllowed(url, token) !== false;
  }

  /** The group's `Crawl-delay` in milliseconds, when it states one. */
  crawlDelayMs(token: string): number | undefined {
    const seconds = this.robots.getCrawlDelay(token);
    return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
  }
}
