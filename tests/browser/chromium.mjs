// Debian's headless Chromium for the WebRTC pages (webrtc_page.mjs, sip_page.mjs): fake capture
// devices (a tone file for the microphone when given, Chromium's moving pattern for the camera),
// autoplay, and host candidates with addresses rather than mDNS names (nothing here resolves
// .local names). A persistent context in a temporary profile, removed by close().

import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {chromium} from 'playwright-core';

export async function launchMediaBrowser({executable = '/usr/bin/chromium', tone = null, timeoutMs = 30000}) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'junction-chromium-'));
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required',
    '--disable-features=WebRtcHideLocalIpsWithMdns'];
  if (tone) flags.push(`--use-file-for-fake-audio-capture=${tone}`);
  let context = null;
  const close = async () => {
    if (context) await context.close().catch(() => {});
    rmSync(userDataDir, {recursive: true, force: true});
  };
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: executable, headless: true, args: flags, timeout: timeoutMs,
    });
  } catch (e) {
    await close();
    throw e;
  }
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  return {context, page, close};
}
