import robotsParserImport from 'robots-parser';

/** The part of robots-parser's parsed file used here. */
interface ParsedRobots {
  isAllowed(url: string, ua?: string): boolean | undefined;
  getCrawlDelay(ua?: string): number | undefined;
}
type ParseRobots = (url: string, text: string) => ParsedRobots;
// robots-parser is CommonJS and its types say `export default`: under Node the default import is
// the function itself, under a bundler's interop it may sit on `.default`.
const robotsParser = ((robotsParserImport as unknown as { default?: ParseRobots }).default ??
  robotsParserImport) as unknown as ParseRobots;

/** One origin's robots.txt, parsed (robots-parser: RFC 9309 groups, longest match, `*` and `$`). */
export class RobotsRules {
  private readonly robots: ParsedRobots;

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
    return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0
      ? seconds * 1000
      : undefined;
  }
}
