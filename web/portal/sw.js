// sw.js - the portal's service worker. Its one job: the Web Share Target. When a person
// shares files to the installed portal (manifest.webmanifest "share_target"), the browser
// POSTs them as a form to /portal/share; this worker takes the files from that form,
// uploads each to POST /api/v1/jobs with the session cookie, and opens the job list
// (/portal/?shared=N). Signed out, the files wait in the Cache Storage ("pp-share-pending")
// until the portal uploads them after sign-in (/portal/?shared=signin).
// Every other request goes to the network untouched: nothing of the user is cached.

const SHARE_PATH = '/portal/share';
const SHARE_CACHE = 'pp-share-pending';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method === 'POST' && url.origin === self.location.origin &&
      url.pathname === SHARE_PATH) {
    event.respondWith(receiveShare(event.request));
  }
});

// The shared files; a shared text or link without a file becomes a small text file.
function sharedFiles(form) {
  const files = form.getAll('file').filter((f) => f && typeof f === 'object' && f.size > 0);
  if (files.length) return files;
  const text = [form.get('title'), form.get('text'), form.get('url')]
    .filter((v) => typeof v === 'string' && v.trim()).join('\n');
  return text ? [new File([text + '\n'], 'shared text.txt', { type: 'text/plain' })] : [];
}

async function upload(file) {
  const body = new FormData();
  body.append('file', file, file.name || 'shared document');
  return fetch('/api/v1/jobs', {
    method: 'POST',
    body,
    credentials: 'same-origin',
    headers: { 'X-Requested-With': 'pullprint', Accept: 'application/json' },
  });
}

async function keepForLater(files) {
  const cache = await caches.open(SHARE_CACHE);
  let n = 0;
  for (const file of files) {
    n += 1;
    const key = `/portal/share-pending/${Date.now()}-${n}`;
    await cache.put(key, new Response(file, {
      headers: {
        'Content-Type': file.type || 'application/octet-stream',
        'X-Filename': encodeURIComponent(file.name || 'shared document'),
      },
    }));
  }
}

async function receiveShare(request) {
  let files = [];
  try {
    files = sharedFiles(await request.formData());
  } catch (_) {
    return Response.redirect('/portal/?shared=0&failed=1', 303);
  }
  let ok = 0;
  let failed = 0;
  for (let i = 0; i < files.length; i++) {
    let response;
    try {
      response = await upload(files[i]);
    } catch (_) {
      response = null;
    }
    if (response && response.status === 401) {
      await keepForLater(files.slice(i));
      return Response.redirect('/portal/?shared=signin', 303);
    }
    if (response && response.ok) ok += 1;
    else failed += 1;
  }
  return Response.redirect(`/portal/?shared=${ok}&failed=${failed}`, 303);
}
