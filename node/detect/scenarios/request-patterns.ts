import { detach } from './detach-string.ts'

/**
 * What an HTTP request line reveals about intent, computed once per request as bit flags so that a dozen
 * scenarios can ask about it without re-running regexes. The lists follow what CrowdSec's hub scenarios and
 * fail2ban's filters look for; patterns run on the percent-decoded path (twice decoded: scanners double-encode).
 */
export const REQUEST_FLAGS = {
  sensitiveFile: 1 << 0,
  sqli: 1 << 1,
  xss: 1 << 2,
  pathTraversal: 1 << 3,
  adminInterface: 1 << 4,
  wordpress: 1 << 5,
  cveProbe: 1 << 6,
  staticAsset: 1 << 7,
  badUserAgent: 1 << 8,
  queryOnly: 1 << 9,
  declaredCrawler: 1 << 10,
} as const

// Files that exist only on misconfigured servers: secrets, VCS metadata, backups, shells' histories.
const SENSITIVE =
  /(?:^|\/)(?:\.env(?:\.\w+)?|\.git(?:\/|$)|\.svn(?:\/|$)|\.hg(?:\/|$)|\.ds_store|\.htpasswd|\.htaccess|\.bash_history|\.bashrc|\.zsh_history|\.cache(?:\/|$)|\.ssh(?:\/|$)|\.aws(?:\/|$)|\.docker(?:\/|$)|\.npmrc|\.vscode(?:\/|$)|\.idea(?:\/|$)|id_rsa|id_dsa|id_ecdsa|id_ed25519|wp-config\.php(?:\.\w+)?|web\.config|config\.php\.(?:bak|old|save|orig)|database\.yml|credentials(?:\.json)?|secrets?\.(?:json|ya?ml)|server-status|phpinfo\.php|info\.php|backup\.(?:sql|zip|tar(?:\.gz)?)|dump\.sql|db\.sql|\.sql(?:\.gz)?$|etc\/passwd|etc\/shadow|proc\/self\/environ)/i

const SQLI =
  /(?:\bunion\b[\s\S]{0,20}\bselect\b|\bselect\b[\s\S]{1,80}\bfrom\b|information_schema|\bsleep\s*\(|\bbenchmark\s*\(|\bwaitfor\s+delay\b|\bpg_sleep\b|['"`]\s*(?:or|and)\s*['"`]?\d|\bor\s+1\s*=\s*1|\band\s+1\s*=\s*1|['"`]\s*(?:--|#|\/\*)|;\s*(?:drop|insert|update|delete)\s|,null,null|\bconcat\s*\(|\bchar\s*\(\d|\bextractvalue\s*\(|\bupdatexml\s*\(|\bload_file\s*\(|\binto\s+(?:out|dump)file\b|@@version|\bxp_cmdshell\b)/i

const XSS =
  /(?:<\s*\/?\s*script\b|<\s*(?:img|svg|iframe|body|video|audio|details|object|embed|marquee|input)\b[^>]*?\bon\w+\s*=|\bjavascript\s*:|\bon(?:error|load|mouseover|focus|click|toggle|animationstart)\s*=|\balert\s*\(|\bprompt\s*\(|\bconfirm\s*\(|document\.(?:cookie|domain|write)|\bsrcdoc\s*=|<\s*svg\b|\beval\s*\()/i

// A markup tag injected into a query string: how reflected-XSS scanners test whether input is echoed back.
const HTML_TAG = /<\s*\/?\s*[a-z][a-z0-9]*(?:[\s/>]|$)/i

const TRAVERSAL =
  /(?:\.\.[\\/]|[\\/]\.\.(?:[\\/]|$)|\/etc\/(?:passwd|shadow|hosts)|\bboot\.ini\b|\bwin\.ini\b|\/proc\/self\/)/i

const ADMIN =
  /(?:^|\/)(?:phpmyadmin[\w.-]*|pma|myadmin|mysqladmin|sqladmin|dbadmin|adminer(?:[\w.-]*\.php)?|administrator|admin(?:istration)?(?:\.php|\/|$)|manager\/html|\+cscoe\+|webadmin|cpanel|whm|plesk|solr\/admin|jenkins|actuator(?:\/|$)|console(?:\/|$)|hudson|axis2(?:-admin)?|jmx-console|web-console|boaform|setup\.php)/i

const WORDPRESS =
  /(?:^|\/)(?:wp-(?:login|admin|content|includes|json|config|cron|signup|trackback)|xmlrpc\.php)/i

// Paths of well-known exploits (Laravel Ignition, router CGIs, Struts, Spring4Shell, Log4Shell, F5, Citrix...).
const CVE =
  /(?:_ignition\/execute-solution|setup\.cgi|networkdiag\.cgi|\/cgi-bin\/(?:luci|webproc|admin\.cgi|login\.cgi|mainfunction\.cgi|\.%2e)|\/hnap1|\/goform\/|\/boaform\/|\$\{jndi:|\bclass\.module\.classloader\b|\/tmui\/|\/vpn\/\.\.\/|\/remote\/fgt_lang|\/owa\/auth\/x\.js|\/autodiscover\/autodiscover\.json|\/solr\/admin\/cores|\/vendor\/phpunit\/.*eval-stdin\.php|\/wls-wsat\/|\/_async\/asyncresponseservice|\/jars\/upload|\/api\/v1\/pods|\/shell\?|\/device\.rsp|\/picsdesc\.xml|\/cgi-bin\/.*\.(?:sh|pl)\b|\/actuator\/gateway\/routes|\/debug\/pprof|\/\.well-known\/.*\.php|\/console\/images\/%252e)/i

const STATIC = /\.(?:js|css|png|jpe?g|gif|ico|svg|webp|woff2?|ttf|eot|map|mp4|webm|mp3|pdf|txt)$/i

// User agents of tools that announce themselves (CrowdSec's bad_user_agents list, condensed).
const BAD_UA =
  /(?:nikto|sqlmap|nmap|masscan|zgrab|nuclei|acunetix|netsparker|w3af|dirbuster|dirb\/|gobuster|feroxbuster|wpscan|whatweb|wfuzz|ffuf|hydra|medusa|skipfish|arachni|openvas|nessus|qualys|jorgee|zmeu|morfeus|fimap|havij|paros|webshag|grabber|commix|xsstrike|joomscan|httprint|sqlninja|brutus|bsqlbf|webinspect|appscan|burp(?:suite)?|ZmEu|muieblackcat|\bpython-requests\/|go-http-client\/1\.1$|curl\/7\.\d+\.\d+ \(exploit|l9explore|l9tcpid|censysinspect|expanse|internet-measurement)/i

/** Percent-decodes (twice: scanners double-encode); `+` means a space only in a query string. */
// Search and SEO crawlers follow every broken link they find: their 404s are not probing. The user agent can be
// forged, so this only exempts a client from the 404-counting scenarios, never from payload or secret-file rules.
const DECLARED_CRAWLER =
  /(?:googlebot|bingbot|mj12bot|ahrefsbot|semrushbot|yandexbot|baiduspider|duckduckbot|applebot|yahoo! slurp|petalbot|dotbot|seznambot|facebookexternalhit|twitterbot|linkedinbot|exabot|ia_archiver|archive\.org_bot)/i

function decode(text: string, plusIsSpace: boolean): string {
  if (text.indexOf('%') === -1 && (!plusIsSpace || text.indexOf('+') === -1)) return text
  let out = plusIsSpace ? text.replace(/\+/g, ' ') : text
  for (let i = 0; i < 2 && out.indexOf('%') !== -1; i++) {
    try {
      out = decodeURIComponent(out)
    } catch {
      // Malformed escapes are themselves a scanner trait; decode what can be decoded.
      out = out.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    }
  }
  return out
}

/** Characters without which none of the injection patterns can match: skip the regexes for plain paths. */
const INJECTION_HINT = /[%'"<>()=;`\\]|select|union|script|\.\./i

// A site sees few distinct user agents and each repeats endlessly: remember their verdicts (bounded, so a
// client inventing a new agent per request costs only the regexes it would have cost anyway).
const uaFlags = new Map<string, number>()
const UA_CACHE_MAX = 20_000
/** texts longer than this are classified every time rather than held (20,000 of them could be megabytes each) */
const CACHE_MAX_LENGTH = 1024

function classifyUserAgent(userAgent: string): number {
  if (userAgent.length > CACHE_MAX_LENGTH) return userAgentFlags(userAgent)
  let flags = uaFlags.get(userAgent)
  if (flags !== undefined) return flags
  flags = userAgentFlags(userAgent)
  if (uaFlags.size >= UA_CACHE_MAX) uaFlags.clear()
  // detached: a key sliced from a line would keep that line's whole chunk of log text alive
  uaFlags.set(detach(userAgent), flags)
  return flags
}

function userAgentFlags(userAgent: string): number {
  return BAD_UA.test(userAgent)
    ? REQUEST_FLAGS.badUserAgent
    : DECLARED_CRAWLER.test(userAgent)
      ? REQUEST_FLAGS.declaredCrawler
      : 0
}

// Paths repeat as much as user agents do (the same pages, assets and probe lists): remember their verdicts too,
// bounded the same way.
const pathFlags = new Map<string, number>()
const PATH_CACHE_MAX = 20_000

export function classifyRequest(path: string | undefined, userAgent: string | undefined): number {
  const flags = userAgent !== undefined && userAgent.length > 0 ? classifyUserAgent(userAgent) : 0
  if (path === undefined || path.length === 0) return flags
  if (path.length > CACHE_MAX_LENGTH) return flags | classifyPath(path)
  let fromPath = pathFlags.get(path)
  if (fromPath === undefined) {
    fromPath = classifyPath(path)
    if (pathFlags.size >= PATH_CACHE_MAX) pathFlags.clear()
    pathFlags.set(detach(path), fromPath)
  }
  return flags | fromPath
}

function classifyPath(path: string): number {
  let flags = 0
  const q = path.indexOf('?')
  const route = q === -1 ? path : path.slice(0, q)
  if (q !== -1 && (route === '/' || route === '')) flags |= REQUEST_FLAGS.queryOnly
  if (STATIC.test(route)) flags |= REQUEST_FLAGS.staticAsset
  const decodedRoute = decode(route, false)
  const decoded = q === -1 ? decodedRoute : decodedRoute + decode(path.slice(q), true)
  if (SENSITIVE.test(decodedRoute)) flags |= REQUEST_FLAGS.sensitiveFile
  if (ADMIN.test(decodedRoute)) flags |= REQUEST_FLAGS.adminInterface
  if (WORDPRESS.test(decodedRoute)) flags |= REQUEST_FLAGS.wordpress
  if (CVE.test(decoded)) flags |= REQUEST_FLAGS.cveProbe
  if (INJECTION_HINT.test(decoded)) {
    if (SQLI.test(decoded)) flags |= REQUEST_FLAGS.sqli
    if (XSS.test(decoded) || (q !== -1 && HTML_TAG.test(decoded.slice(decodedRoute.length))))
      flags |= REQUEST_FLAGS.xss
    if (TRAVERSAL.test(decoded)) flags |= REQUEST_FLAGS.pathTraversal
  }
  return flags
}
