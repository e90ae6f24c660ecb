// Security keys need the browser's WebAuthn prompt, so this is the one place pages use JavaScript.
// The script only runs the ceremony: the key's answer goes into a hidden field and the form posts
// to the server as usual, which checks it and renders the result page.
//
// Forms it knows (each optional):
//   #add-security-key      Account settings: name field, then the registration prompt.
//   #security-key-login    /login/two-factor: "Use security key", then the authentication prompt.
//   #security-key-reauth   /reauthenticate: the password, then the authentication prompt.
//   #add-passkey           Account settings: "Add passkey", then the registration prompt.
//   #passkey-login         /login: "Sign in with a passkey", and the Email field's passkey autofill.
// Each has data-options-url (the API route that hands out the prompt's options), a hidden
// input[name=response] and a [data-key-status] live region.
(function () {
  'use strict';
  var webauthn = window.SimpleWebAuthnBrowser;

  var TOUCH = 'Touch your security key when it blinks…';

  // The pages say "security keys need JavaScript" until this script runs.
  Array.prototype.forEach.call(document.querySelectorAll('[data-key-needs-js]'), function (el) {
    el.hidden = true;
  });

  function setStatus(form, message, problem) {
    var el = form.querySelector('[data-key-status]');
    if (!el) return;
    el.textContent = message || '';
    el.classList.toggle('key-status-problem', !!(message && problem));
  }

  function fetchOptions(url) {
    return fetch(url, { method: 'POST', credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (res) {
      return res
        .json()
        .catch(function () {
          return null;
        })
        .then(function (body) {
          if (!res.ok || !body) {
            var err = new Error((body && body.error && body.error.message) || 'The server did not answer as expected. Reload the page and try again.');
            err.code = body && body.error && body.error.code;
            err.fromServer = true;
            throw err;
          }
          return body;
        });
    });
  }

  /** The person closed the prompt, it timed out, or no key answered. */
  function cancelled(err) {
    return err && (err.name === 'NotAllowedError' || err.name === 'AbortError');
  }

  function explain(err, whenCancelled) {
    if (cancelled(err)) return whenCancelled;
    if (err && err.fromServer) return err.message;
    if (err && err.name === 'InvalidStateError') return 'This security key is already added to your account.';
    if (err && err.name === 'SecurityError') return 'The browser refused to use a security key on this address. Open the site at its usual address and try again.';
    return 'Something went wrong with the security key. Try again.';
  }

  function supported() {
    return !!(webauthn && webauthn.browserSupportsWebAuthn && webauthn.browserSupportsWebAuthn());
  }

  function submitButton(form) {
    return form.querySelector('button[type="submit"], button:not([type])');
  }

  /** The buttons that wait for this script (disabled in the HTML) may now be used. */
  function enableButtons(form) {
    Array.prototype.forEach.call(form.querySelectorAll('[data-key-enable]'), function (b) {
      b.disabled = false;
    });
  }

  /** Runs `ceremony(options)` when the form is submitted, then posts the form with its answer. */
  function wire(form, opts) {
    var button = submitButton(form);
    var responseField = form.querySelector('input[name="response"]');

    function busy(on) {
      if (button) button.disabled = on;
      form.setAttribute('aria-busy', on ? 'true' : 'false');
    }

    // Coming back with the Back button restores the page as it was left: usable again.
    window.addEventListener('pageshow', function () {
      if (form.dataset.ready === '1') {
        form.dataset.ready = '';
        if (responseField && !form.dataset.keepResponse) responseField.value = '';
      }
      busy(false);
    });

    form.addEventListener('submit', function (event) {
      if (form.dataset.ready === '1') return;
      // An answer the server kept (only the name was refused): send it again as it is.
      if (form.dataset.keepResponse && responseField && responseField.value) return;
      if (opts.before && opts.before() === false) return;
      event.preventDefault();
      // A new try: the page's old refusal no longer applies.
      Array.prototype.forEach.call(document.querySelectorAll('main .notice-error'), function (el) {
        el.hidden = true;
      });
      setStatus(form, TOUCH);
      busy(true);
      fetchOptions(form.dataset.optionsUrl)
        .then(function (optionsJSON) {
          return opts.ceremony(optionsJSON);
        })
        .then(function (response) {
          responseField.value = JSON.stringify(response);
          if (opts.beforeSubmit) opts.beforeSubmit();
          form.dataset.ready = '1';
          setStatus(form, 'Checking the key…');
          form.submit();
        })
        .catch(function (err) {
          busy(false);
          if (opts.onError && opts.onError(err) === true) return;
          setStatus(form, explain(err, opts.cancelMessage), true);
          if (opts.afterError) opts.afterError(err);
        });
    });
  }

  function focusFallback() {
    var target = document.querySelector('input[name="code"]') || document.querySelector('[data-key-fallback]');
    if (target) target.focus();
  }

  // ---- Adding a key in settings ----
  var addForm = document.getElementById('add-security-key');
  if (addForm) {
    var nameField = addForm.querySelector('input[name="name"]');
    var heldResponse = addForm.querySelector('input[name="response"]');
    if (heldResponse && heldResponse.value) addForm.dataset.keepResponse = '1';
    if (nameField) {
      // An old message about the prompt no longer fits once the person types a new name.
      nameField.addEventListener('input', function () {
        setStatus(addForm, '');
      });
    }
    if (!supported()) {
      setStatus(addForm, 'This browser cannot use security keys. Try another browser, such as a current Chrome, Edge, Firefox or Safari.', true);
    } else {
      enableButtons(addForm);
      wire(addForm, {
        before: function () {
          if (nameField && !nameField.value.trim()) {
            // Let the server say it next to the field, as for every other form.
            return false;
          }
          return true;
        },
        ceremony: function (optionsJSON) {
          return webauthn.startRegistration({ optionsJSON: optionsJSON });
        },
        cancelMessage: 'The security key was not added: the prompt was closed before a key answered. Press Add security key to try again.',
        onError: function (err) {
          if (err && err.code === 'reauthentication_required') {
            window.location.assign(addForm.dataset.reauthUrl || '/reauthenticate?next=%2Fsettings');
            return true;
          }
          if (err && err.code === 'unauthenticated') {
            window.location.assign('/login?next=%2Fsettings');
            return true;
          }
          return false;
        },
      });
    }
  }

  // ---- Adding a passkey in settings: no name to type, it is named after the device ----
  var passkeyForm = document.getElementById('add-passkey');
  if (passkeyForm) {
    if (!supported()) {
      setStatus(passkeyForm, 'This browser cannot create passkeys. Try another browser, such as a current Chrome, Edge, Firefox or Safari.', true);
    } else {
      enableButtons(passkeyForm);
      wire(passkeyForm, {
        ceremony: function (optionsJSON) {
          return webauthn.startRegistration({ optionsJSON: optionsJSON });
        },
        cancelMessage: 'The passkey was not added: the prompt was closed before it was created. Press Add passkey to try again.',
        onError: function (err) {
          if (err && err.code === 'reauthentication_required') {
            window.location.assign(passkeyForm.dataset.reauthUrl || '/reauthenticate?next=%2Fsettings');
            return true;
          }
          if (err && err.code === 'unauthenticated') {
            window.location.assign('/login?next=%2Fsettings');
            return true;
          }
          if (err && err.name === 'InvalidStateError') {
            setStatus(passkeyForm, 'This device already keeps a passkey or key of your account.', true);
            return true;
          }
          return false;
        },
      });
    }
  }

  // ---- Signing in with a passkey: the button, and autofill in the Email field ----
  var passkeyLogin = document.getElementById('passkey-login');
  if (passkeyLogin) {
    // The server did not know the passkey the browser offered: ask the browser (or password manager)
    // to forget it, where the WebAuthn Signal API exists. The page already says so in words.
    var unknownId = passkeyLogin.dataset.unknownCredential;
    var PKC = window.PublicKeyCredential;
    if (unknownId && PKC && typeof PKC.signalUnknownCredential === 'function') {
      PKC.signalUnknownCredential({ rpId: passkeyLogin.dataset.rpId || location.hostname, credentialId: unknownId }).catch(function () {});
    }
    var passkeyResponse = passkeyLogin.querySelector('input[name="response"]');
    var sendAnswer = function (response) {
      passkeyResponse.value = JSON.stringify(response);
      passkeyLogin.dataset.ready = '1';
      setStatus(passkeyLogin, 'Checking the passkey…');
      passkeyLogin.submit();
    };
    // Autofill (conditional mediation) waits in the background from page load; it ends, without a
    // word, when the button starts a modal prompt instead (the library aborts the waiting request).
    var autofillStopped = false;
    var startAutofill = function () {
      if (!webauthn.browserSupportsWebAuthnAutofill) return;
      webauthn
        .browserSupportsWebAuthnAutofill()
        .then(function (yes) {
          if (!yes || autofillStopped) return null;
          return fetchOptions(passkeyLogin.dataset.optionsUrl).then(function (optionsJSON) {
            if (autofillStopped) return null;
            return webauthn.startAuthentication({ optionsJSON: optionsJSON, useBrowserAutofill: true });
          });
        })
        .then(function (response) {
          if (response) sendAnswer(response);
        })
        .catch(function (err) {
          // Aborted for the button, or nothing chosen: not an error for the person.
          if (autofillStopped || cancelled(err)) return;
          setStatus(passkeyLogin, explain(err, ''), true);
        });
    };
    if (!supported()) {
      setStatus(passkeyLogin, 'This browser cannot use passkeys. Log in with your email and password.', false);
    } else {
      enableButtons(passkeyLogin);
      wire(passkeyLogin, {
        before: function () {
          // Stop the autofill request cleanly before the modal prompt takes over.
          autofillStopped = true;
          if (webauthn.WebAuthnAbortService) webauthn.WebAuthnAbortService.cancelCeremony();
          return true;
        },
        ceremony: function (optionsJSON) {
          return webauthn.startAuthentication({ optionsJSON: optionsJSON });
        },
        cancelMessage: 'No passkey was used: the prompt was closed before one was chosen. Press Sign in with a passkey to try again, or log in with your email and password.',
        afterError: function () {
          // The modal prompt is over: passkeys are offered in the Email field again.
          autofillStopped = false;
          startAutofill();
        },
      });
      if (passkeyLogin.dataset.autofill !== 'off') startAutofill();
    }
  }

  // ---- Using a key at login. If the person closes the prompt, the code field is still there. ----
  var loginForm = document.getElementById('security-key-login');
  if (loginForm) {
    if (supported()) {
      loginForm.hidden = false;
      wire(loginForm, {
        ceremony: function (optionsJSON) {
          return webauthn.startAuthentication({ optionsJSON: optionsJSON });
        },
        beforeSubmit: function () {
          // The code form's "Trust this device" checkbox applies to the key too.
          var copy = loginForm.querySelector('input[type="hidden"][name="trustDevice"]');
          var trust = document.getElementById('field-trust');
          if (copy && trust) copy.value = trust.checked ? '1' : '';
        },
        cancelMessage: document.querySelector('input[name="code"]')
          ? 'The security key was not used: the prompt was closed before a key answered. Enter a code instead, or press Use security key to try again.'
          : 'The security key was not used: the prompt was closed before a key answered. Press Use security key to try again, or use a recovery code.',
        onError: function (err) {
          if (err && (err.code === 'no_pending_login' || err.code === 'unauthenticated')) {
            window.location.assign('/login?expired=1');
            return true;
          }
          return false;
        },
        afterError: focusFallback,
      });
    } else {
      var unsupported = document.querySelector('[data-key-unsupported]');
      if (unsupported) unsupported.hidden = false;
    }
  }

  // ---- Confirming it's you with the password and a key ----
  var reauthForm = document.getElementById('security-key-reauth');
  if (reauthForm) {
    if (!supported()) {
      setStatus(reauthForm, 'This browser cannot use security keys. Confirm another way below.', true);
    } else {
      enableButtons(reauthForm);
      wire(reauthForm, {
        before: function () {
          // Without a password, let the server ask for it next to its field; no prompt yet.
          var password = reauthForm.querySelector('input[name="password"]');
          return !(password && !password.value);
        },
        ceremony: function (optionsJSON) {
          return webauthn.startAuthentication({ optionsJSON: optionsJSON });
        },
        cancelMessage: 'The security key was not used: the prompt was closed before a key answered. Press Use security key to try again, or confirm another way below.',
        afterError: function () {
          var fallback = document.querySelector('[data-key-fallback]');
          if (fallback) fallback.focus();
        },
      });
    }
  }
})();
