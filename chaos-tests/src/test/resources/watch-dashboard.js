// Watches a Spillway dashboard in headless Chromium and reports what its DOM showed.
// Usage: node watch-dashboard.js <url> <seconds> <screenshot.png>
// Prints one JSON line: {maxSpill, maxSpillPct, finalSpill, mastersSeen, events, eventsAfterReload,
// clusterRows, rejections, updated, samples}; eventsAfterReload is the event list once the page
// has been reloaded (the relay keeps it, the page does not).
const { chromium } = require('playwright-core');

(async () => {
  const [url, seconds, shot] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  // Done once the spill rose, a new master showed, and the depth has then stayed at zero for
  // 2.5 s (10 samples): a second failover inside that window (Sentinel may fail over again on a
  // loaded machine) restarts the count instead of ending the watch mid-spill.
  let maxSpill = 0, maxSpillPct = 0, finalSpill = -1, samples = 0, zeroRun = 0;
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const depth = Number(await page.textContent('#spill-depth'));
    maxSpill = Math.max(maxSpill, depth);
    maxSpillPct = Math.max(maxSpillPct, Number(await page.textContent('#spill-pct')));
    finalSpill = depth;
    samples++;
    const masters = (await page.textContent('#masters-seen')).split(',').filter(s => s.trim());
    zeroRun = maxSpill > 0 && depth === 0 && masters.length >= 2 ? zeroRun + 1 : 0;
    if (zeroRun >= 10 && samples > 4) { break; }
    await page.waitForTimeout(250);
  }
  finalSpill = Number(await page.textContent('#spill-depth'));
  const mastersSeen = (await page.textContent('#masters-seen')).split(',').map(s => s.trim()).filter(s => s);
  const events = await page.$$eval('#events li', lis => lis.map(li => li.textContent));
  const clusterRows = await page.$$eval('#cluster tr', trs => trs.map(tr => tr.textContent));
  const rejections = await page.$$eval('#rejections tr', trs => trs.map(tr => tr.textContent));
  const updated = await page.textContent('#updated');
  await page.screenshot({ path: shot, fullPage: true });
  await page.reload();
  await page.waitForTimeout(2500);
  const eventsAfterReload = await page.$$eval('#events li', lis => lis.map(li => li.textContent));
  console.log(JSON.stringify({ maxSpill, maxSpillPct, finalSpill, mastersSeen, events, eventsAfterReload,
    clusterRows, rejections, updated, samples }));
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
