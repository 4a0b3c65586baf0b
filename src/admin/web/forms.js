// The two forms: add a device (fields generated from the driver's JSON Schema, errors shown by field as the API
// names them) and check a pass (a dry run: the visitor's use is not spent).

import { ApiError, api } from './api.js';
import { $, fill, h } from './dom.js';

/** A field's input, from its JSON Schema (as z.toJSONSchema writes it). */
function inputFor(name, schema, required) {
  const id = `f-${name}`;
  const consts = (schema.anyOf ?? []).map((s) => s.const).filter((c) => c !== undefined);
  const options = schema.enum ?? (consts.length ? consts : undefined);
  let input;
  if (options) {
    input = h(
      'select',
      { id, name },
      required ? null : h('option', { value: '' }, schema.default !== undefined ? `default (${schema.default})` : '—'),
      options.map((o) => h('option', { value: JSON.stringify(o) }, String(o))),
    );
    input.dataset.kind = 'json';
  } else if (schema.type === 'boolean') {
    input = h('select', { id, name }, [
      h('option', { value: '' }, schema.default !== undefined ? `default (${schema.default})` : '—'),
      h('option', { value: 'true' }, 'yes'),
      h('option', { value: 'false' }, 'no'),
    ]);
    input.dataset.kind = 'json';
  } else if (schema.type === 'integer' || schema.type === 'number') {
    input = h('input', {
      id,
      name,
      type: 'number',
      inputmode: 'decimal',
      step: schema.type === 'integer' ? '1' : 'any',
      placeholder: schema.default !== undefined ? String(schema.default) : '',
    });
    input.dataset.kind = 'number';
  } else if (schema.type === 'array') {
    input = h('input', { id, name, type: 'text', placeholder: 'comma-separated' });
    input.dataset.kind = 'list';
  } else {
    input = h('input', {
      id,
      name,
      type: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: schema.default !== undefined ? String(schema.default) : '',
    });
    input.dataset.kind = 'text';
  }
  const range =
    schema.minimum !== undefined && schema.maximum !== undefined ? ` (${schema.minimum}–${schema.maximum})` : '';
  return h(
    'div',
    { class: 'field', dataset: { field: `settings.${name}` } },
    h('label', { for: id }, name.replaceAll('_', ' '), required ? h('span', { class: 'req' }, ' *') : null, range),
    input,
    h('p', { class: 'problem', role: 'alert' }),
  );
}

/** Read the settings inputs: empty means "use the default", so it is left out. */
function readSettings(container) {
  const settings = {};
  for (const el of container.querySelectorAll('[name]')) {
    const v = el.value.trim();
    if (v === '') continue;
    const kind = el.dataset.kind;
    if (kind === 'json') settings[el.name] = JSON.parse(v);
    else if (kind === 'number') settings[el.name] = Number(v);
    else if (kind === 'list')
      settings[el.name] = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else settings[el.name] = v;
  }
  return settings;
}

/** Put each problem next to its field; what matches no field goes to the form's own message. */
function showProblems(form, err) {
  for (const p of form.querySelectorAll('.problem')) p.textContent = '';
  for (const f of form.querySelectorAll('.field')) f.classList.remove('bad');
  const general = [];
  for (const p of err.problems ?? []) {
    const field =
      form.querySelector(`.field[data-field="${CSS.escape(p.field)}"]`) ??
      form.querySelector(`.field[data-field="${CSS.escape(p.field.split('.').slice(0, 2).join('.'))}"]`);
    if (field) {
      field.classList.add('bad');
      const slot = field.querySelector('.problem');
      slot.textContent = slot.textContent ? `${slot.textContent}; ${p.message}` : p.message;
    } else general.push(`${p.field}: ${p.message}`);
  }
  const msg = $('.form-msg', form);
  msg.className = 'form-msg bad';
  msg.textContent = general.length
    ? general.join('; ')
    : err.problems?.length
      ? 'Please fix the fields marked.'
      : err.message;
}

export function setupAddDevice(form, drivers, onAdded) {
  const driverSelect = $('#add-driver', form);
  const fields = $('#add-settings', form);
  fill(
    driverSelect,
    h('option', { value: '' }, 'choose a driver…'),
    drivers.map((d) => h('option', { value: d.id }, `${d.id} (${d.kind})`)),
  );
  const describe = $('#add-driver-desc', form);
  driverSelect.addEventListener('change', () => {
    const d = drivers.find((x) => x.id === driverSelect.value);
    describe.textContent = d?.description ?? '';
    const props = d?.settings?.properties ?? {};
    const required = new Set(d?.settings?.required ?? []);
    const order = Object.keys(props).sort((a, b) => Number(required.has(b)) - Number(required.has(a)));
    fill(
      fields,
      order.map((name) => inputFor(name, props[name], required.has(name))),
    );
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const id = $('#add-id', form).value.trim();
    const name = $('#add-name', form).value.trim();
    const msg = $('.form-msg', form);
    msg.className = 'form-msg';
    msg.textContent = 'Saving…';
    try {
      if (!driverSelect.value)
        throw new ApiError(400, 'validation_failed', 'choose a driver', [
          { field: 'driver', message: 'choose a driver' },
        ]);
      const body = { driver: driverSelect.value, settings: readSettings(fields) };
      if (name) body.name = name;
      const res = await api('PUT', `/api/devices/${encodeURIComponent(id || ' ')}`, body);
      showProblems(form, { problems: [] });
      msg.className = 'form-msg ok';
      msg.textContent = `${res.action === 'added' ? 'Added' : 'Changed'} ${res.device.id}.`;
      onAdded(res.device);
    } catch (err) {
      if (err instanceof ApiError) showProblems(form, err);
      else {
        msg.className = 'form-msg bad';
        msg.textContent = err.message;
      }
    }
  });
}

export function setupPassCheck(form, locks) {
  const lockSelect = $('#check-lock', form);
  const current = lockSelect.value;
  fill(
    lockSelect,
    locks.map((d) => h('option', { value: d.id }, d.name ? `${d.name} (${d.id})` : d.id)),
  );
  if (locks.some((d) => d.id === current)) lockSelect.value = current;
  if (form.dataset.wired) return;
  form.dataset.wired = 'yes';
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = $('#check-result', form);
    const text = $('#check-pass', form).value.trim();
    const asPin = /^\d{6,8}$/.test(text);
    fill(out, 'Checking…');
    out.className = 'verdict';
    try {
      const r = await api('POST', '/api/passes/check', { lock: lockSelect.value, [asPin ? 'pin' : 'pass']: text });
      out.className = `verdict ${r.granted ? 'ok' : 'bad'}`;
      fill(
        out,
        h('strong', { dataset: { role: 'verdict' } }, r.granted ? 'Would open' : 'Denied'),
        r.granted ? null : h('span', { class: 'reason', dataset: { role: 'reason' } }, r.reason),
        r.detail ? h('small', {}, r.detail) : null,
        r.pass_id
          ? h('small', {}, `pass ${r.pass_id}${r.exp ? `, expires ${new Date(r.exp).toLocaleString()}` : ''}`)
          : null,
        r.uses_left !== undefined ? h('small', {}, `${r.uses_left} use(s) left`) : null,
        h('small', {}, 'Dry run: nothing was recorded, no use was spent.'),
      );
    } catch (err) {
      out.className = 'verdict bad';
      const problems = (err.problems ?? []).map((p) => `${p.field}: ${p.message}`).join('; ');
      fill(out, h('strong', {}, 'Error'), h('span', {}, problems || err.message));
    }
  });
}
