// Loads dashboard pages in Debian's chromium (headless, driven by playwright-core) and prints, as
// one JSON object on stdout, what a user would see: per page the charts' data the page holds, the
// canvases drawn, the page's visible text, the console errors, and the CSV its first download
// link serves. tests/integration/serve_cli_test.cc (DashboardBrowser) starts `lote serve`, runs
// this, and checks the output against `lote query`; scripts/dashboard_screenshots.sh runs it with
// --screenshots to regenerate docs/images/.
//
// Usage: node tests/dashboard/browser_check.mjs --url http://127.0.0.1:PORT
//          [--pages overview,intents,...] [--query 'text_lang=es'] [--lang es]
//          [--screenshots DIR] [--chromium /usr/bin/chromium]
import { chromium } from 'playwright-core';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const base = args.url;
const pages = (args.pages || 'overview,intents,entities,quarantine,drift,models,runs').split(',');
if (!base) {
  console.error('browser_check: --url is required');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: args.chromium || '/usr/bin/chromium',
  // The tests run as root in CI containers, where chromium's sandbox cannot start.
  args: ['--no-sandbox', '--disable-gpu'],
});
const out = { pages: {} };
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  for (const name of pages) {
    const page = await context.newPage();
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    const q = new URLSearchParams(args.query || '');
    q.set('page', name);
    if (args.lang) q.set('lang', args.lang);
    await page.goto(base + '/?' + q.toString());
    await page.waitForFunction(() => window.loteDashboard && window.loteDashboard.ready, null,
                               { timeout: 20000 });
    const seen = await page.evaluate(async () => {
      const canvases = [...document.querySelectorAll('canvas')];
      const link = document.querySelector('a.csv');
      let csv = null;
      if (link) {
        const r = await fetch(link.href);
        csv = { href: link.getAttribute('href'), status: r.status, body: await r.text() };
      }
      return {
        charts: window.loteDashboard.charts,
        error: window.loteDashboard.error || null,
        drawn: canvases.filter((c) => c.width > 0 && c.height > 0).length,
        text: document.body.innerText,
        html: document.documentElement.outerHTML,
        nav: [...document.querySelectorAll('nav a')].map((a) => a.getAttribute('href')),
        csv,
      };
    });
    seen.console_errors = errors;
    out.pages[name] = seen;
    if (args.screenshots) {
      await page.screenshot({ path: `${args.screenshots}/dashboard-${name}.png`, fullPage: true });
    }
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
