import Bowser from 'bowser';

/**
 * "Firefox on Linux" from a user agent, for people reading a notice or a list. Deliberately small:
 * it names the common browsers and systems and says "Unknown browser" for the rest; the raw text
 * is never shown in mail (it is whatever the client chose to send).
 */
export function describeUserAgent(ua: string | null | undefined): string {
  if (!ua) return 'Unknown browser';
  const browser = /Edg(e|A|iOS)?\//.test(ua)
    ? 'Edge'
    : /OPR\/|Opera/.test(ua)
      ? 'Opera'
      : /Firefox\/|FxiOS\//.test(ua)
        ? 'Firefox'
        : /Chrome\/|CriOS\/|Chromium\//.test(ua)
          ? /HeadlessChrome/.test(ua) ? 'Chrome (headless)' : 'Chrome'
          : /Safari\//.test(ua) && /Version\//.test(ua)
            ? 'Safari'
            : /^curl\//.test(ua)
              ? 'curl'
              : /^node|undici/i.test(ua)
                ? 'a script'
                : null;
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /iPhone|iPad|iPod/.test(ua)
      ? 'iOS'
      : /Mac OS X|Macintosh/.test(ua)
        ? 'macOS'
        : /Android/.test(ua)
          ? 'Android'
          : /CrOS/.test(ua)
            ? 'ChromeOS'
            : /Linux/.test(ua)
              ? 'Linux'
              : null;
  if (!browser) return os ? `Unknown browser on ${os}` : 'Unknown browser';
  return os ? `${browser} on ${os}` : browser;
}

export interface UserAgentView {
  /** "Chrome 131", "Firefox 133", "curl"; null when nothing is recognised. */
  browser: string | null;
  /** "Linux", "macOS 14.5", "iOS 17.4"; null when unknown. */
  os: string | null;
}

/**
 * Browser and system of a user agent, by bowser (maintained, MIT, no dependencies) instead of our
 * own regular expressions: its tables follow new browsers. Only the major browser version is kept,
 * which is what a person recognises. A tool without a browser signature is named by its product
 * token ("curl/8.5.0" → "curl").
 */
export function parseUserAgent(ua: string | null): UserAgentView {
  if (!ua) return { browser: null, os: null };
  let name: string | undefined;
  let version: string | undefined;
  let os: string | undefined;
  let osVersion: string | undefined;
  try {
    const p = Bowser.getParser(ua);
    name = p.getBrowserName() || undefined;
    version = p.getBrowserVersion() || undefined;
    os = p.getOSName() || undefined;
    osVersion = p.getOSVersion() || undefined;
  } catch {
    // bowser throws on an empty string only; anything else it parses.
  }
  let browser: string | null = null;
  if (name) browser = version ? `${name} ${version.split('.')[0]}` : name;
  else {
    const tool = /^([A-Za-z][\w.-]{0,40})\//.exec(ua);
    if (tool && tool[1] !== 'Mozilla') browser = tool[1]!;
  }
  const system = os ? (osVersion && /^[\d.]+$/.test(osVersion) ? `${os} ${osVersion.split('.').slice(0, 2).join('.')}` : os) : null;
  return { browser, os: system };
}
