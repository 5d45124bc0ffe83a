// datamesh console: confirmations, copy to clipboard, and uploads straight to S3 with presigned
// URLs (XMLHttpRequest for real upload progress; multipart above PART_THRESHOLD, cancellable).
'use strict';
(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content ?? '';
  const PART_THRESHOLD = 16 * 1024 * 1024;
  const FILES_AT_ONCE = 2;
  const PARTS_AT_ONCE = 3;

  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) e.preventDefault();
  });

  document.addEventListener('click', async (e) => {
    const btn = e.target instanceof Element ? e.target.closest('[data-copy]') : null;
    if (!btn) return;
    const el = document.getElementById(btn.dataset.copy);
    const text = el && 'value' in el ? el.value : el?.textContent ?? '';
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      if (el && 'select' in el) el.select();
      document.execCommand('copy');
    }
    btn.textContent = 'Copied';
  });

  async function api(path, body) {
    const res = await fetch('/console/api/uploads/' + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf() },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.error ? `${json.error.message} (${json.error.code})` : `HTTP ${res.status}`);
    return json;
  }

  /** PUT a blob to a presigned URL; resolves with the ETag. */
  function put(url, blob, onProgress, job) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      job.xhrs.add(xhr);
      xhr.open('PUT', url);
      xhr.upload.onprogress = (ev) => onProgress(ev.loaded);
      xhr.onload = () => {
        job.xhrs.delete(xhr);
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(blob.size);
          resolve((xhr.getResponseHeader('ETag') || '').replace(/"/g, ''));
        } else {
          const code = /<Code>([^<]*)<\/Code>/.exec(xhr.responseText)?.[1] ?? `HTTP ${xhr.status}`;
          const msg = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText)?.[1] ?? '';
          reject(new Error(`${msg} (${code})`));
        }
      };
      xhr.onerror = () => (job.xhrs.delete(xhr), reject(new Error('network error')));
      xhr.onabort = () => (job.xhrs.delete(xhr), reject(new Error('cancelled')));
      xhr.send(blob);
    });
  }

  const section = document.querySelector('section.upload');
  if (!section) return;
  const bucket = section.dataset.bucket;
  const prefix = section.dataset.prefix || '';
  const box = document.getElementById('uploads');
  const list = document.getElementById('upload-list');
  const totalBar = document.getElementById('upload-total');
  const totalText = document.getElementById('upload-total-text');
  const refresh = document.getElementById('upload-refresh');
  const jobs = [];
  let queue = [];
  let running = 0;

  function fmt(n) {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) (n /= 1024), i++;
    return `${i === 0 ? n : n.toFixed(1)} ${u[i]}`;
  }

  function updateTotal() {
    const size = jobs.reduce((s, j) => s + j.file.size, 0);
    const sent = jobs.reduce((s, j) => s + j.sent(), 0);
    const pct = size === 0 ? 100 : Math.floor((sent / size) * 100);
    totalBar.value = pct;
    totalBar.setAttribute('aria-valuetext', `${pct}%`);
    const done = jobs.filter((j) => j.state === 'done').length;
    const failed = jobs.filter((j) => j.state === 'failed' || j.state === 'cancelled').length;
    totalText.textContent = `${done} of ${jobs.length} files, ${fmt(sent)} of ${fmt(size)}${failed ? `, ${failed} failed or cancelled` : ''}`;
    if (jobs.every((j) => j.state === 'done' || j.state === 'failed' || j.state === 'cancelled')) {
      refresh.hidden = false;
      refresh.href = location.href;
      box.dataset.state = 'finished';
    }
  }

  function addJob(file, path) {
    const key = prefix + path;
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'upload-name';
    name.textContent = key;
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('aria-label', `Upload of ${key}`);
    const status = document.createElement('span');
    status.className = 'upload-status muted';
    status.textContent = `queued, ${fmt(file.size)}`;
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'secondary small';
    cancel.textContent = 'Cancel';
    cancel.setAttribute('aria-label', `Cancel upload of ${key}`);
    li.append(name, bar, status, cancel);
    list.append(li);
    const loaded = new Map();
    const job = {
      file,
      key,
      state: 'queued',
      xhrs: new Set(),
      uploadId: undefined,
      sent: () => [...loaded.values()].reduce((a, b) => a + b, 0),
      progress(part, n) {
        loaded.set(part, n);
        const pct = file.size === 0 ? 100 : Math.floor((job.sent() / file.size) * 100);
        bar.value = pct;
        bar.setAttribute('aria-valuetext', `${pct}%`);
        if (job.state === 'uploading') status.textContent = `${pct}% of ${fmt(file.size)}`;
        updateTotal();
      },
      finish(state, text) {
        job.state = state;
        status.textContent = text;
        li.dataset.state = state;
        cancel.hidden = true;
        updateTotal();
      },
      cancel() {
        if (job.state === 'queued') {
          queue = queue.filter((j) => j !== job);
          job.finish('cancelled', 'cancelled');
        } else if (job.state === 'uploading') {
          // run() sees the state, aborts the multipart upload and marks the row cancelled.
          job.state = 'cancelling';
          status.textContent = 'cancelling…';
          for (const x of job.xhrs) x.abort();
        }
      },
    };
    cancel.addEventListener('click', () => job.cancel());
    jobs.push(job);
    queue.push(job);
  }

  async function uploadSmall(job) {
    const { url } = await api('put-url', { bucket, key: job.key });
    await put(url, job.file, (n) => job.progress(1, n), job);
  }

  async function uploadMultipart(job) {
    const { uploadId, partSize } = await api('create', { bucket, key: job.key, size: job.file.size, contentType: job.file.type || undefined });
    job.uploadId = uploadId;
    if (job.state !== 'uploading') throw new Error('cancelled');
    const count = Math.max(1, Math.ceil(job.file.size / partSize));
    const etags = new Array(count);
    let next = 1;
    const worker = async () => {
      while (next <= count && job.state === 'uploading') {
        const batch = [next++];
        const { urls } = await api('part-urls', { bucket, key: job.key, uploadId, partNumbers: batch });
        for (const n of batch) {
          if (job.state !== 'uploading') return;
          const blob = job.file.slice((n - 1) * partSize, Math.min(job.file.size, n * partSize));
          etags[n - 1] = await put(urls[n], blob, (b) => job.progress(n, b), job);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARTS_AT_ONCE, count) }, worker));
    if (job.state !== 'uploading') throw new Error('cancelled');
    await api('complete', { bucket, key: job.key, uploadId, parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })) });
  }

  async function run(job) {
    job.state = 'uploading';
    box.dataset.state = 'uploading';
    try {
      await (job.file.size > PART_THRESHOLD ? uploadMultipart(job) : uploadSmall(job));
      job.finish('done', `uploaded, ${fmt(job.file.size)}`);
    } catch (e) {
      // A multipart upload that will not complete is aborted, so its parts do not linger.
      if (job.uploadId) await api('abort', { bucket, key: job.key, uploadId: job.uploadId }).catch(() => {});
      if (job.state === 'cancelling') job.finish('cancelled', 'cancelled');
      else job.finish('failed', `failed: ${e.message}`);
    }
  }

  function pump() {
    while (running < FILES_AT_ONCE && queue.length > 0) {
      const job = queue.shift();
      running++;
      run(job).finally(() => {
        running--;
        pump();
      });
    }
  }

  function start(entries) {
    if (entries.length === 0) return;
    box.hidden = false;
    refresh.hidden = true;
    for (const { file, path } of entries) addJob(file, path);
    updateTotal();
    pump();
  }

  const filesOf = (input) => [...input.files].map((f) => ({ file: f, path: f.webkitRelativePath || f.name }));
  for (const id of ['upload-files', 'upload-folder']) {
    const input = document.getElementById(id);
    input?.addEventListener('change', () => {
      start(filesOf(input));
      input.value = '';
    });
  }
  document.getElementById('upload-cancel')?.addEventListener('click', () => jobs.forEach((j) => j.cancel()));

  // Drag and drop, folders included (walked through the entries API).
  const zone = document.getElementById('dropzone');
  const walk = (entry, path) =>
    new Promise((resolve) => {
      if (entry.isFile) entry.file((f) => resolve([{ file: f, path: path + f.name }]), () => resolve([]));
      else if (entry.isDirectory) {
        const reader = entry.createReader();
        const all = [];
        const more = () =>
          reader.readEntries(async (batch) => {
            if (batch.length === 0) {
              const nested = await Promise.all(all.map((e) => walk(e, path + entry.name + '/')));
              resolve(nested.flat());
            } else {
              all.push(...batch);
              more();
            }
          }, () => resolve([]));
        more();
      } else resolve([]);
    });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', async (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const items = [...(e.dataTransfer?.items ?? [])].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
    if (items.length > 0) start((await Promise.all(items.map((en) => walk(en, '')))).flat());
    else start([...(e.dataTransfer?.files ?? [])].map((f) => ({ file: f, path: f.name })));
  });
})();
