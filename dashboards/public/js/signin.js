// The sign-in page: a sign-in link carries the token in its fragment (#token=...), which
// the browser never sends to the server. Move it into the form, wipe it from the address
// bar and history, and post the form. Without a fragment the user pastes the token. A
// link opened while this page is already showing only changes the fragment: listen too.
const form = document.querySelector('form[data-signin]');

function fromFragment() {
  const m = /(?:^#|&)token=([A-Za-z0-9_-]{1,200})/.exec(location.hash);
  if (!form || !m) return;
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  form.querySelector('input[name="token"]').value = m[1];
  form.submit();
}

fromFragment();
window.addEventListener('hashchange', fromFragment);
