// Adding a passkey from the portal's security page: the provider's
// options, the browser's authenticator, the answer back. The page works
// without it; the button only shows where the browser has passkeys.
(function () {
  const b = document.getElementById('add-passkey');
  if (!b || !window.PublicKeyCredential) return;
  b.hidden = false;
  const out = document.getElementById('passkey-status');
  const dec = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
  const enc = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const post = (path, fields) => fetch(path, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(Object.assign({ csrf: b.dataset.csrf }, fields)),
  });
  b.addEventListener('click', async () => {
    out.textContent = '';
    try {
      const r = await post('/portal/security/passkeys/options', {});
      const j = await r.json();
      if (!r.ok) { out.textContent = j.error; return; }
      const pk = j.options.publicKey;
      pk.challenge = dec(pk.challenge);
      pk.user.id = dec(pk.user.id);
      (pk.excludeCredentials || []).forEach((c) => { c.id = dec(c.id); });
      const cred = await navigator.credentials.create({ publicKey: pk });
      const credential = JSON.stringify({ id: cred.id, rawId: enc(cred.rawId), type: cred.type, response: {
        clientDataJSON: enc(cred.response.clientDataJSON), attestationObject: enc(cred.response.attestationObject) } });
      const name = document.getElementById('f-passkey-name').value;
      const f = await post('/portal/security/passkeys', { ceremony: j.ceremony, name, credential });
      const k = await f.json();
      if (f.ok) { location.href = k.next; } else { out.textContent = k.error; }
    } catch (e) {
      out.textContent = b.dataset.failed;
    }
  });
})();
