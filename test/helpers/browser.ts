import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type Browser } from 'playwright-core'

/** Debian's chromium (`.ci/install-test-deps.sh` installs it); tests that need a browser skip without one */
export const CHROMIUM: string | undefined = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  process.env.CHROMIUM_PATH ?? '',
].find((p) => p !== '' && existsSync(p))

export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts')

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // CI runs as root, where chromium refuses its sandbox; the rest keeps it off a network it cannot reach
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

/** One `<svg>` chart of a page as the browser laid it out. */
export interface RenderedChart {
  section: string
  title: string
  width: number
  height: number
  /** data lines (polylines) in it, and how many of them the browser drew with a visible extent */
  lines: number
  drawnLines: number
}

/**
 * Opens a saved HTML page in `browser` and reads back what it rendered: the console errors and page errors it
 * raised, and every chart's laid-out size and drawn lines. Saves a full-page screenshot to `test-artifacts/`.
 */
export async function renderPage(
  browser: Browser,
  path: string,
  screenshot: string,
): Promise<{ problems: string[]; charts: RenderedChart[] }> {
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text())
  })
  page.on('pageerror', (e) => problems.push(e.message))
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`))
  try {
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' })
    const charts = await page.evaluate(() =>
      Array.from(document.querySelectorAll('section svg')).map((svg) => {
        const box = svg.getBoundingClientRect()
        const lines = Array.from(svg.querySelectorAll('polyline'))
        const drawn = lines.filter((l) => {
          const b = l.getBBox()
          return l.points.numberOfItems >= 2 && (b.width > 0 || b.height > 0)
        })
        return {
          section: svg.closest('section')?.id ?? '',
          title: svg.getAttribute('aria-label') ?? '',
          width: box.width,
          height: box.height,
          lines: lines.length,
          drawnLines: drawn.length,
        }
      }),
    )
    await mkdir(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, screenshot), fullPage: true })
    return { problems, charts }
  } finally {
    await page.close()
  }
}
