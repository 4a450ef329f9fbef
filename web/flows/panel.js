// The side panel of the flow editor: the selected step's settings, written
// straight into the document in the shape of docs/flows.schema.json. A
// field left empty is left out of the step (the server's default applies);
// anything typed is kept as typed, and the server's check says what is
// wrong with it, next to the field.

import { api, errorText, upload } from '../api.js';
import { append, h } from './dom.js';
import {
  CONFIDENCES, DAYS, DEFAULTS, GEO_CONDITIONS, ID_RE, SOURCE_CONDITIONS,
  TYPE_HINTS, TYPE_LABELS, dayText, isObject, portNames,
} from './model.js';

let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

// The audio files of an account (GET /v1/audio), fetched once and again
// after an upload: a promise of [{id, name, duration_ms}].
const audioLists = new Map();

function audioFiles(accountId, again) {
  const key = String(accountId || '');
  if (again || !audioLists.has(key)) {
    audioLists.set(key, (async () => {
      const files = [];
      let cursor = '';
      for (let page = 0; page < 10; page++) {
        const q = `limit=200${accountId ? `&account_id=${accountId}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await api('GET', `/v1/audio?${q}`);
        if (res.status !== 200 || !res.data) break;
        files.push(...res.data.data);
        if (!res.data.next_cursor) break;
        cursor = res.data.next_cursor;
      }
      return files;
    })());
  }
  return audioLists.get(key);
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

// A labelled field; field is the problem path it shows messages for.
function field(label, control, fieldPath, hint) {
  const id = control.id || nextId('fe-in');
  if (!control.id && /^(INPUT|SELECT|TEXTAREA)$/.test(control.tagName)) control.id = id;
  return h('div', { class: 'fe-field', 'data-field': fieldPath },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'fe-hint' }, hint) : null);
}

function setOrDelete(obj, key, value) {
  if (value === undefined) delete obj[key];
  else obj[key] = value;
}

function listText(a) {
  return Array.isArray(a) ? a.join(', ') : '';
}

function parseList(text) {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function intOrRaw(text) {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

// "09:00-12:00, 13:00-18:00" to [["09:00","12:00"],["13:00","18:00"]], or
// null when it cannot be read.
export function parseRanges(text) {
  const t = text.trim();
  if (t === '' || t.toLowerCase() === 'closed') return [];
  const out = [];
  for (const part of t.split(',')) {
    const m = part.trim().match(/^(\d{1,2}):(\d{2})\s*(?:-|–|to)\s*(\d{1,2}):(\d{2})$/);
    if (!m) return null;
    out.push([`${m[1].padStart(2, '0')}:${m[2]}`, `${m[3].padStart(2, '0')}:${m[4]}`]);
  }
  return out;
}

export class Panel {
  constructor(editor, el) {
    this.ed = editor;
    this.el = el;
  }

  get ro() {
    return this.ed.readOnly;
  }

  // A text input bound to obj[key]; empty means "leave it out" when
  // optional, and is kept as "" (for the server to name) when required.
  text(obj, key, opts = {}) {
    const tag = opts.area ? 'textarea' : 'input';
    const el = h(tag, {
      type: opts.area ? undefined : 'text',
      value: obj[key] === undefined ? '' : String(obj[key]),
      placeholder: opts.placeholder,
      rows: opts.area ? 3 : undefined,
      disabled: this.ro,
    });
    el.addEventListener('input', () => {
      const v = el.value;
      setOrDelete(obj, key, v === '' && opts.optional ? undefined : v);
      this.ed.edited(opts.step);
    });
    return el;
  }

  number(obj, key, opts = {}) {
    const el = h('input', {
      type: 'number', step: opts.inc || 1, min: opts.min, max: opts.max,
      value: obj[key] === undefined ? '' : String(obj[key]),
      placeholder: opts.placeholder, disabled: this.ro, class: 'fe-num',
    });
    el.addEventListener('input', () => {
      setOrDelete(obj, key, el.value === '' ? undefined : Number(el.value));
      this.ed.edited(opts.step);
    });
    return el;
  }

  // A select over values; '' (the first option, "default") leaves the key out.
  choice(obj, key, values, opts = {}) {
    const el = h('select', { disabled: this.ro },
      opts.defaultLabel ? h('option', { value: '' }, opts.defaultLabel) : null,
      values.map((v) => h('option', { value: v, selected: obj[key] === v }, v)));
    el.addEventListener('change', () => {
      setOrDelete(obj, key, el.value === '' ? undefined : el.value);
      this.ed.edited(opts.step, { panel: opts.panel });
    });
    return el;
  }

  check(obj, key, def, opts = {}) {
    const el = h('input', {
      type: 'checkbox', checked: obj[key] === undefined ? def : Boolean(obj[key]),
      disabled: this.ro,
    });
    el.addEventListener('change', () => {
      setOrDelete(obj, key, el.checked === def ? undefined : el.checked);
      this.ed.edited(opts.step);
    });
    return el;
  }

  // A prompt: text to speak, or an uploaded audio file (chosen from the
  // account's files, or uploaded here and then chosen).
  prompt(step, key, label, opts = {}) {
    const p = isObject(step[key]) ? step[key] : null;
    const audio = p && p.audio_id !== undefined && p.text === undefined;
    const kind = h('select', { disabled: this.ro, 'aria-label': `${label}: kind`, class: 'fe-prompt-kind' },
      h('option', { value: 'text', selected: !audio }, 'Text'),
      h('option', { value: 'audio', selected: audio }, 'Audio file'));
    const wrap = h('div', { class: 'fe-field', 'data-field': key },
      h('span', { class: 'fe-label' }, label),
      h('div', { class: 'fe-row' }, kind));
    kind.addEventListener('change', () => {
      if (kind.value === 'audio') {
        if (opts.optional) delete step[key];
        else step[key] = { audio_id: '' };
      } else if (opts.optional) {
        delete step[key];
      } else {
        step[key] = { text: '' };
      }
      this.ed.edited(step);
      this.render();
    });
    if (audio) {
      append(wrap, this.audioChoice(step, key, label, p.audio_id, opts));
      return wrap;
    }
    const value = h('textarea', {
      value: p && p.text !== undefined ? String(p.text) : '',
      placeholder: opts.placeholder, rows: 2, disabled: this.ro,
      'aria-label': label,
    });
    value.addEventListener('input', () => {
      if (value.value === '' && opts.optional) delete step[key];
      else step[key] = { text: value.value };
      this.ed.edited(step);
    });
    append(wrap, [value]);
    return wrap;
  }

  // The audio file of a prompt: a select over the flow's account's files,
  // a file input that uploads one (and chooses it), and a player.
  audioChoice(step, key, label, current, opts) {
    const accountId = this.ed.flow && this.ed.flow.account_id;
    const has = current !== undefined && current !== '';
    const select = h('select', { disabled: this.ro, 'aria-label': `${label}: audio file`, class: 'fe-audio' },
      h('option', { value: '' }, 'Choose a file…'),
      has ? h('option', { value: String(current), selected: true }, `file ${current}`) : null);
    const status = h('p', { class: 'fe-hint', role: 'status' });
    const player = h('audio', {
      controls: true, preload: 'none', class: 'fe-player',
      src: has ? `/v1/audio/${encodeURIComponent(current)}/file` : undefined,
      hidden: !has,
    });
    const choose = (id) => {
      if (id === '' && opts.optional) delete step[key];
      else step[key] = { audio_id: id === '' ? '' : Number(id) };
      this.ed.edited(step);
    };
    select.addEventListener('change', () => {
      choose(select.value);
      player.hidden = select.value === '';
      if (select.value !== '') player.src = `/v1/audio/${select.value}/file`;
    });
    const fill = (files, chosen) => {
      select.replaceChildren(h('option', { value: '' }, 'Choose a file…'));
      let found = false;
      for (const f of files) {
        const on = String(f.id) === String(chosen);
        found = found || on;
        select.append(h('option', { value: String(f.id), selected: on },
          `${f.name} (${seconds(f.duration_ms)})`));
      }
      if (!found && chosen !== undefined && chosen !== '') {
        select.append(h('option', { value: String(chosen), selected: true }, `file ${chosen} (not found)`));
      }
    };
    audioFiles(accountId).then((files) => fill(files, current));

    const input = h('input', {
      type: 'file', accept: 'audio/*,.wav,.mp3,.ogg,.opus', disabled: this.ro,
      'aria-label': `${label}: upload an audio file`, class: 'fe-upload',
    });
    input.addEventListener('change', async () => {
      const file = input.files && input.files[0];
      if (!file) return;
      status.textContent = `Uploading ${file.name}…`;
      const q = `name=${encodeURIComponent(file.name)}${accountId ? `&account_id=${accountId}` : ''}`;
      const res = await upload(`/v1/audio?${q}`, file);
      input.value = '';
      if (res.status !== 201 || !res.data) {
        status.textContent = errorText(res, 'Upload failed');
        return;
      }
      status.textContent = `Uploaded ${res.data.name}: ${seconds(res.data.duration_ms)} at 8 kHz.`;
      fill(await audioFiles(accountId, true), res.data.id);
      choose(String(res.data.id));
      player.src = `/v1/audio/${res.data.id}/file`;
      player.hidden = false;
    });
    return [
      select,
      this.ro ? null : h('label', { class: 'fe-upload-label' }, 'Upload WAV, MP3 or Ogg: ', input),
      status,
      player,
      h('p', { class: 'fe-hint' }, 'Played as uploaded, at telephone quality (8 kHz).'),
    ];
  }

  render() {
    const step = this.ed.selectedStep();
    this.el.replaceChildren();
    if (!step) {
      this.renderFlow();
    } else {
      this.renderStep(step);
    }
    this.decorate();
  }

  renderFlow() {
    const ed = this.ed;
    const start = h('select', { disabled: this.ro, id: 'fe-start' },
      ed.doc.steps.map((s) => h('option', { value: s.id, selected: s.id === ed.doc.start }, s.id)));
    start.addEventListener('change', () => ed.setStart(start.value));
    append(this.el, [
      h('h2', {}, 'Flow'),
      h('p', { class: 'fe-hint' }, ed.readOnly
        ? 'An older version, read-only. Select a step to see its settings.'
        : 'Select a step to edit it, or add one from the palette. Drag a box to move it; ' +
          'drag from an exit onto a box to connect them.'),
      field('Calls start at', start, 'start'),
      h('div', { class: 'fe-problems-slot' }),
      h('details', { class: 'fe-keys' },
        h('summary', {}, 'Keyboard'),
        h('ul', {},
          h('li', {}, 'Tab moves between the steps; the focused step is selected.'),
          h('li', {}, 'Arrow keys move it by 10 px, with Shift by 1 px.'),
          h('li', {}, 'Delete removes it; Enter goes to its settings.'),
          h('li', {}, 'A selected connector is removed with Delete.')))]);
  }

  problemList(stepId) {
    const pr = this.ed.problems;
    const errs = stepId === null ? pr.doc : (pr.steps.get(stepId) || []);
    const warns = stepId === null ? pr.allWarnings : (pr.warnings.get(stepId) || []);
    const allErrs = stepId === null ? pr.count : errs.length;
    if (!allErrs && !warns.length) return null;
    const items = [];
    if (stepId === null) {
      for (const p of pr.doc) items.push(h('li', { class: 'bad' }, p.field ? `${p.field}: ` : '', p.message));
      for (const [id, list] of pr.steps) {
        for (const p of list) {
          items.push(h('li', { class: 'bad' },
            h('button', { type: 'button', class: 'link', onclick: () => this.ed.select(id, true) }, id),
            `${p.field ? ` ${p.field}` : ''}: ${p.message}`));
        }
      }
      for (const w of warns) {
        items.push(h('li', { class: 'warn' },
          h('button', { type: 'button', class: 'link', onclick: () => this.ed.select(w.step, true) }, w.step),
          `: ${w.message}`));
      }
    } else {
      for (const p of errs) items.push(h('li', { class: 'bad' }, p.field ? `${p.field}: ` : '', p.message));
      for (const w of warns) items.push(h('li', { class: 'warn' }, w.message));
    }
    return h('ul', { class: 'fe-problems', 'aria-label': 'Problems' }, items);
  }

  renderStep(step) {
    const ed = this.ed;
    const idIn = h('input', { type: 'text', value: step.id, disabled: this.ro, id: 'fe-step-id' });
    const idMsg = h('p', { class: 'fe-field-err', hidden: true });
    idIn.addEventListener('change', () => {
      const err = ed.renameStep(step.id, idIn.value.trim());
      idMsg.hidden = !err;
      idMsg.textContent = err || '';
      if (err) idIn.value = step.id;
    });
    const isStart = ed.doc.start === step.id;
    const startBox = h('input', { type: 'checkbox', checked: isStart, disabled: this.ro || isStart, id: 'fe-step-start' });
    startBox.addEventListener('change', () => ed.setStart(step.id));

    append(this.el, [
      h('h2', {}, `${TYPE_LABELS[step.type] || step.type} step`,
        h('span', { class: 'fe-hint' }, ` · ${TYPE_HINTS[step.type] || ''}`)),
      h('p', { class: 'fe-hint' }, h('button', { type: 'button', class: 'link', onclick: () => ed.select(null) }, '← The whole flow')),
      h('div', { class: 'fe-problems-slot' }),
      h('div', { class: 'fe-field', 'data-field': 'id' },
        h('label', { for: 'fe-step-id' }, 'Id'), idIn, idMsg),
      field('Label', this.text(step, 'label', { optional: true, step, placeholder: 'For people; optional' }), 'label'),
      h('div', { class: 'fe-field fe-inline' }, startBox,
        h('label', { for: 'fe-step-start' }, isStart ? 'Calls start here' : 'Start calls here')),
      h('div', { class: 'fe-settings' }, this.settings(step)),
      this.exitsSection(step),
      this.ro ? null : h('button', {
        type: 'button', class: 'danger', id: 'fe-step-delete',
        onclick: () => ed.removeStep(step.id),
      }, 'Delete step')]);
  }

  settings(step) {
    switch (step.type) {
      case 'play':
        return this.prompt(step, 'prompt', 'Prompt', {});
      case 'disclosure': return this.disclosure(step);
      case 'schedule': return this.schedule(step);
      case 'geo': return this.rules(step, GEO_CONDITIONS);
      case 'source': return this.rules(step, SOURCE_CONDITIONS);
      case 'menu':
        return [
          this.prompt(step, 'prompt', 'Prompt', {}),
          this.prompt(step, 'invalid_prompt', 'After a wrong key', { optional: true, placeholder: DEFAULTS.invalid }),
          h('div', { class: 'fe-pair' },
            field('Wait for a key (s)', this.number(step, 'timeout_s', { step, min: 1, max: 60, placeholder: '5' }), 'timeout_s'),
            field('Retries', this.number(step, 'retries', { step, min: 0, max: 5, placeholder: '2' }), 'retries')),
        ];
      case 'dial': return this.dial(step);
      case 'whisper':
        return [
          field('Said to the agent', this.text(step, 'text', { step, area: true }), 'text',
            'Fields in braces are filled in: {source}, {campaign}, {caller}, {caller_location}…'),
          h('div', { class: 'fe-field fe-inline', 'data-field': 'accept' },
            h('label', {}, this.check(step, 'accept', false, { step }), ' The agent presses 1 to take the call')),
        ];
      case 'voicemail':
        return [
          this.prompt(step, 'greeting', 'Greeting', { optional: true, placeholder: DEFAULTS.greeting }),
          h('div', { class: 'fe-field fe-inline', 'data-field': 'beep' },
            h('label', {}, this.check(step, 'beep', true, { step }), ' Beep after the greeting')),
          field('Longest message (s)', this.number(step, 'max_s', { step, min: 5, max: 600, placeholder: '120' }), 'max_s'),
        ];
      case 'tag': {
        const el = h('textarea', { rows: 3, disabled: this.ro, value: Array.isArray(step.tags) ? step.tags.join('\n') : '' });
        el.addEventListener('input', () => {
          step.tags = el.value.split('\n').map((s) => s.trim()).filter((s) => s !== '');
          this.ed.edited(step);
        });
        return field('Tags, one a line', el, 'tags');
      }
      case 'set': return this.set(step);
      case 'hangup':
        return h('p', { class: 'fe-hint' }, 'Ends the call. A hang-up step has no settings and no exits.');
      default:
        return h('p', { class: 'fe-hint' }, `Unknown type '${step.type}'.`);
    }
  }

  disclosure(step) {
    const parts = [
      this.prompt(step, 'prompt', 'Notice', { optional: true, placeholder: DEFAULTS.disclosure }),
    ];
    const when = h('select', { disabled: this.ro },
      h('option', { value: '', selected: step.when === undefined }, 'always (default)'),
      h('option', { value: 'always', selected: step.when === 'always' }, 'always'),
      h('option', { value: 'two_party', selected: step.when === 'two_party' }, 'two_party: callers from the regions below'));
    when.addEventListener('change', () => {
      setOrDelete(step, 'when', when.value || undefined);
      if (step.when !== 'two_party') delete step.regions;
      this.ed.edited(step, { panel: true });
    });
    parts.push(field('Who hears it', when, 'when'));
    if (step.when === 'two_party') {
      const regions = h('input', { type: 'text', value: listText(step.regions), disabled: this.ro, placeholder: 'the two-party-consent states' });
      regions.addEventListener('input', () => {
        const l = parseList(regions.value);
        setOrDelete(step, 'regions', l.length ? l : undefined);
        this.ed.edited(step);
      });
      parts.push(field('Regions', regions, 'regions', 'ISO 3166-2 codes, comma-separated: US-CA, US-WA'));
    }
    return parts;
  }

  schedule(step) {
    if (!isObject(step.hours)) step.hours = {};
    const tz = this.text(step, 'timezone', { optional: true, step, placeholder: "the account's time zone" });
    tz.setAttribute('list', 'fe-zones');
    const zones = h('datalist', { id: 'fe-zones' },
      (Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : []).map((z) => h('option', { value: z })));
    const days = DAYS.map((d) => {
      const el = h('input', { type: 'text', value: Array.isArray(step.hours[d]) ? dayText(step.hours[d]) : 'closed', disabled: this.ro });
      const msg = h('p', { class: 'fe-field-err', hidden: true }, 'Write ranges as 09:00-17:00, separated by commas, or "closed".');
      el.addEventListener('input', () => {
        const r = parseRanges(el.value);
        msg.hidden = r !== null;
        if (r === null) return;
        if (r.length) step.hours[d] = r;
        else delete step.hours[d];
        this.ed.edited(step);
      });
      return h('div', { class: 'fe-field fe-day', 'data-field': `hours.${d}` },
        h('label', {}, d[0].toUpperCase() + d.slice(1), el), msg);
    });
    const dates = Array.isArray(step.dates) ? step.dates : [];
    const dateRows = dates.map((entry, i) => this.dateRow(step, entry, i));
    return [
      field('Time zone', tz, 'timezone'), zones,
      h('fieldset', { class: 'fe-group', 'data-field': 'hours' }, h('legend', {}, 'Weekly hours'), days),
      h('fieldset', { class: 'fe-group', 'data-field': 'dates' }, h('legend', {}, 'Holidays and special days'),
        dateRows.length ? dateRows : h('p', { class: 'fe-hint' }, 'None.'),
        this.ro ? null : h('button', {
          type: 'button', class: 'small',
          onclick: () => {
            if (!Array.isArray(step.dates)) step.dates = [];
            step.dates.push({ date: '12-25', holiday: true });
            this.ed.edited(step, { panel: true });
          },
        }, 'Add a date')),
    ];
  }

  dateRow(step, entry, i) {
    const e = isObject(entry) ? entry : {};
    const date = h('input', { type: 'text', value: e.date || '', placeholder: 'MM-DD or YYYY-MM-DD', disabled: this.ro, 'aria-label': 'Date', class: 'fe-date' });
    const name = h('input', { type: 'text', value: e.name || '', placeholder: 'Name', disabled: this.ro, 'aria-label': 'Name' });
    const kind = h('select', { disabled: this.ro, 'aria-label': 'Kind' },
      h('option', { value: 'holiday', selected: e.hours === undefined }, 'Holiday'),
      h('option', { value: 'hours', selected: e.hours !== undefined }, 'Special hours'));
    const hours = h('input', { type: 'text', value: Array.isArray(e.hours) ? dayText(e.hours) : '', disabled: this.ro, 'aria-label': 'Hours', placeholder: '09:00-12:00', hidden: e.hours === undefined });
    const write = () => {
      const out = { date: date.value.trim() };
      if (name.value.trim()) out.name = name.value.trim();
      if (kind.value === 'holiday') {
        out.holiday = true;
      } else {
        const r = parseRanges(hours.value);
        out.hours = r === null ? (Array.isArray(e.hours) ? e.hours : []) : r;
      }
      step.dates[i] = out;
      this.ed.edited(step);
    };
    date.addEventListener('input', write);
    name.addEventListener('input', write);
    hours.addEventListener('input', write);
    kind.addEventListener('change', () => {
      hours.hidden = kind.value === 'holiday';
      write();
    });
    return h('div', { class: 'fe-sub', 'data-field': `dates[${i}]` },
      h('div', { class: 'fe-row' }, date, kind,
        this.ro ? null : h('button', {
          type: 'button', class: 'icon', title: 'Remove this date', 'aria-label': 'Remove this date',
          onclick: () => {
            step.dates.splice(i, 1);
            if (step.dates.length === 0) delete step.dates;
            this.ed.edited(step, { panel: true });
          },
        }, '×')),
      h('div', { class: 'fe-row' }, name, hours));
  }

  rules(step, conditions) {
    if (!Array.isArray(step.rules)) step.rules = [];
    const rows = step.rules.map((rule, i) => this.ruleRow(step, rule, i, conditions));
    return h('fieldset', { class: 'fe-group', 'data-field': 'rules' },
      h('legend', {}, 'Rules, tried in order'),
      h('p', { class: 'fe-hint' }, 'A rule holds when every condition holds; a condition when the fact is one of its values. ' +
        'No rule: exit "other".'),
      rows,
      this.ro ? null : h('button', {
        type: 'button', class: 'small',
        onclick: () => {
          const taken = new Set(step.rules.map((r) => r.exit));
          let n = step.rules.length + 1;
          while (taken.has(`rule${n}`)) n++;
          step.rules.push({ exit: `rule${n}`, [conditions[0]]: [] });
          this.ed.edited(step, { panel: true });
        },
      }, 'Add a rule'));
  }

  ruleRow(step, rule, i, conditions) {
    const r = isObject(rule) ? rule : {};
    const exitIn = h('input', { type: 'text', value: r.exit || '', disabled: this.ro, 'aria-label': 'Exit name', class: 'fe-exitname' });
    exitIn.addEventListener('change', () => {
      const old = r.exit;
      const now = exitIn.value.trim();
      r.exit = now;
      // the connection follows the exit's new name
      if (isObject(step.exits) && old && step.exits[old] !== undefined &&
          step.exits[now] === undefined && now !== 'other') {
        step.exits[now] = step.exits[old];
        delete step.exits[old];
      }
      this.ed.edited(step, { panel: true });
    });
    const conds = Object.keys(r).filter((k) => k !== 'exit').map((k) => {
      const which = h('select', { disabled: this.ro, 'aria-label': 'Condition' },
        conditions.map((c) => h('option', { value: c, selected: c === k }, c)),
        conditions.includes(k) ? null : h('option', { value: k, selected: true }, k));
      const values = h('input', { type: 'text', value: listText(r[k]), disabled: this.ro, 'aria-label': `${k} values`,
        placeholder: k === 'confidence' ? CONFIDENCES.join(', ') : 'values, comma-separated' });
      which.addEventListener('change', () => {
        if (r[which.value] !== undefined) {
          which.value = k;
          return;
        }
        const rebuilt = {};
        for (const key of Object.keys(r)) rebuilt[key === k ? which.value : key] = r[key];
        step.rules[i] = rebuilt;
        this.ed.edited(step, { panel: true });
      });
      values.addEventListener('input', () => {
        r[k] = parseList(values.value);
        this.ed.edited(step);
      });
      return h('div', { class: 'fe-row', 'data-field': `rules[${i}].${k}` }, which, values,
        this.ro ? null : h('button', {
          type: 'button', class: 'icon', title: 'Remove this condition', 'aria-label': `Remove the ${k} condition`,
          onclick: () => {
            delete r[k];
            this.ed.edited(step, { panel: true });
          },
        }, '×'));
    });
    const free = conditions.find((c) => r[c] === undefined);
    return h('div', { class: 'fe-sub', 'data-field': `rules[${i}]` },
      h('div', { class: 'fe-row' }, h('label', {}, 'Exit ', exitIn),
        this.ro ? null : h('button', {
          type: 'button', class: 'icon', title: 'Remove this rule', 'aria-label': 'Remove this rule',
          onclick: () => {
            step.rules.splice(i, 1);
            if (isObject(step.exits) && r.exit && !step.rules.some((x) => x.exit === r.exit)) delete step.exits[r.exit];
            this.ed.edited(step, { panel: true });
          },
        }, '×')),
      conds,
      this.ro || !free ? null : h('button', {
        type: 'button', class: 'small link',
        onclick: () => {
          r[free] = [];
          this.ed.edited(step, { panel: true });
        },
      }, 'Add a condition'));
  }

  dial(step) {
    if (!Array.isArray(step.targets)) step.targets = [];
    const strategy = this.choice(step, 'strategy', ['simultaneous', 'sequential', 'round_robin'],
      { step, defaultLabel: 'simultaneous (default)' });
    const callerId = this.choice(step, 'caller_id', ['caller', 'tracking_number'],
      { step, defaultLabel: 'caller (default)' });
    const rows = step.targets.map((t, i) => this.targetRow(step, t, i));
    return [
      h('fieldset', { class: 'fe-group', 'data-field': 'targets' },
        h('legend', {}, 'Targets'),
        rows.length ? rows : h('p', { class: 'fe-hint' }, 'No targets yet.'),
        this.ro ? null : h('button', {
          type: 'button', class: 'small', id: 'fe-add-target',
          onclick: () => {
            step.targets.push({ number: '' });
            this.ed.edited(step, { panel: true, focus: `[data-field="targets[${step.targets.length - 1}]"] input` });
          },
        }, 'Add a target')),
      field('Strategy', strategy, 'strategy'),
      h('div', { class: 'fe-pair' },
        field('Whole dial (s)', this.number(step, 'timeout_s', { step, min: 5, max: 600, placeholder: '60' }), 'timeout_s'),
        field('Caller id', callerId, 'caller_id')),
    ];
  }

  targetRow(step, t, i) {
    if (!isObject(t)) step.targets[i] = {};
    const tg = step.targets[i];
    const kindOf = tg.uri !== undefined ? 'uri' : tg.user_id !== undefined ? 'user' : 'number';
    const key = { uri: 'uri', number: 'number', user: 'user_id' };
    const kind = h('select', { disabled: this.ro, 'aria-label': 'Kind', class: 'fe-kind' },
      h('option', { value: 'number', selected: kindOf === 'number' }, 'number'),
      h('option', { value: 'uri', selected: kindOf === 'uri' }, 'uri'),
      h('option', { value: 'user', selected: kindOf === 'user' }, 'user'));
    const cur = tg[key[kindOf]];
    const value = h('input', {
      type: 'text', value: cur === undefined ? '' : String(cur), disabled: this.ro,
      'aria-label': 'Destination', class: 'fe-dest',
      placeholder: { number: '+14155550100', uri: 'sip:desk@pbx.example.com', user: 'user id' }[kindOf],
    });
    const ring = this.number(tg, 'ring_s', { step, min: 5, max: 300, placeholder: '20' });
    ring.setAttribute('aria-label', 'Rings for (s)');
    ring.title = 'Rings for (s); default 20';
    const read = () => {
      const k = key[kind.value];
      if (k !== 'user_id') return value.value.trim();
      const v = intOrRaw(value.value);
      return v === undefined ? '' : v;
    };
    value.addEventListener('input', () => {
      tg[key[kind.value]] = read();
      this.ed.edited(step);
    });
    kind.addEventListener('change', () => {
      // the kind's key first, then ring_s, as a target is usually written
      const out = { [key[kind.value]]: read() };
      if (tg.ring_s !== undefined) out.ring_s = tg.ring_s;
      step.targets[i] = out;
      this.ed.edited(step, { panel: true });
    });
    return h('div', { class: 'fe-sub fe-target', 'data-field': `targets[${i}]` },
      h('div', { class: 'fe-row' }, kind, value),
      h('div', { class: 'fe-row' },
        h('label', { class: 'fe-small' }, 'rings ', ring, ' s'),
        this.ro || i === 0 ? null : h('button', {
          type: 'button', class: 'icon', title: 'Move up', 'aria-label': 'Move this target up',
          onclick: () => {
            const [x] = step.targets.splice(i, 1);
            step.targets.splice(i - 1, 0, x);
            this.ed.edited(step, { panel: true });
          },
        }, '↑'),
        this.ro ? null : h('button', {
          type: 'button', class: 'icon', title: 'Remove this target', 'aria-label': 'Remove this target',
          onclick: () => {
            step.targets.splice(i, 1);
            this.ed.edited(step, { panel: true });
          },
        }, '×')));
  }

  set(step) {
    const lead = this.choice(step, 'lead', ['qualified', 'unqualified'], { step, defaultLabel: '(leave as is)' });
    const rows = isObject(step.fields) ? Object.entries(step.fields) : [];
    const write = () => {
      const out = {};
      for (const [k, v] of rows) if (k !== '') out[k] = v;
      setOrDelete(step, 'fields', Object.keys(out).length ? out : undefined);
      this.ed.edited(step);
    };
    const rowEls = rows.map((row, i) => {
      const k = h('input', { type: 'text', value: row[0], disabled: this.ro, 'aria-label': 'Field name', placeholder: 'name' });
      const v = h('input', { type: 'text', value: row[1], disabled: this.ro, 'aria-label': 'Field value', placeholder: 'value' });
      k.addEventListener('input', () => { row[0] = k.value.trim(); write(); });
      v.addEventListener('input', () => { row[1] = v.value; write(); });
      return h('div', { class: 'fe-row', 'data-field': `fields.${row[0]}` }, k, v,
        this.ro ? null : h('button', {
          type: 'button', class: 'icon', 'aria-label': 'Remove this field', title: 'Remove this field',
          onclick: () => { rows.splice(i, 1); write(); this.render(); },
        }, '×'));
    });
    return [
      field('Value', this.number(step, 'value', { step, min: 0, max: 1000000000, placeholder: 'none', inc: 'any' }), 'value'),
      field('Lead', lead, 'lead'),
      h('fieldset', { class: 'fe-group', 'data-field': 'fields' }, h('legend', {}, 'Custom fields'),
        rowEls.length ? rowEls : h('p', { class: 'fe-hint' }, 'None.'),
        this.ro ? null : h('button', {
          type: 'button', class: 'small',
          onclick: () => {
            const f = isObject(step.fields) ? step.fields : {};
            let n = 1;
            while (f[`field${n}`] !== undefined) n++;
            f[`field${n}`] = '';
            step.fields = f;
            this.ed.edited(step, { panel: true });
          },
        }, 'Add a field')),
    ];
  }

  exitsSection(step) {
    const names = portNames(step);
    if (names.length === 0) return null;
    const exits = isObject(step.exits) ? step.exits : {};
    const rows = names.map((name) => {
      const to = exits[name];
      const sel = h('select', { disabled: this.ro, 'aria-label': `Exit ${name} goes to`, 'data-exit': name },
        h('option', { value: '\u0000none', selected: to === undefined }, '— not connected —'),
        h('option', { value: '\u0000null', selected: to === null }, '— ends the call —'),
        this.ed.doc.steps.map((s) => h('option', { value: s.id, selected: to === s.id }, s.id)),
        typeof to === 'string' && !this.ed.doc.steps.some((s) => s.id === to)
          ? h('option', { value: to, selected: true }, `${to} (no such step)`) : null);
      sel.addEventListener('change', () => {
        const v = sel.value;
        this.ed.setExit(step.id, name, v === '\u0000none' ? undefined : v === '\u0000null' ? null : v);
      });
      const selected = this.ed.selEdge && this.ed.selEdge.from === step.id && this.ed.selEdge.exit === name;
      return h('div', { class: `fe-exit${selected ? ' selected' : ''}`, 'data-field': `exits.${name}` },
        h('span', { class: 'fe-exit-name' }, name), sel,
        this.ro || to === undefined ? null : h('button', {
          type: 'button', class: 'icon', title: `Disconnect ${name}`, 'aria-label': `Disconnect exit ${name}`,
          onclick: () => this.ed.setExit(step.id, name, undefined),
        }, '×'));
    });
    let hint = null;
    if (step.type === 'menu') hint = 'A key that is not connected counts as a wrong key; "ends the call" makes it a choice that ends the call.';
    if (step.type === 'schedule') hint = 'Without a holiday exit, a holiday takes "closed".';
    return h('fieldset', { class: 'fe-group fe-exits', 'data-field': 'exits' },
      h('legend', {}, 'Exits'), hint ? h('p', { class: 'fe-hint' }, hint) : null, rows);
  }

  // Marks the fields the server named: the field whose path is the
  // longest prefix of the problem's gets the message.
  decorate() {
    for (const el of this.el.querySelectorAll('.fe-server-err')) el.remove();
    for (const el of this.el.querySelectorAll('.bad')) {
      if (el.closest('.fe-problems')) continue;
      el.classList.remove('bad');
    }
    const step = this.ed.selectedStep();
    const list = step ? (this.ed.problems.steps.get(step.id) || []) : this.ed.problems.doc;
    const holders = [...this.el.querySelectorAll('[data-field]')];
    for (const p of list) {
      const f = p.field || '';
      let best = null;
      for (const el of holders) {
        const df = el.getAttribute('data-field');
        if (f === df || f.startsWith(`${df}.`) || f.startsWith(`${df}[`)) {
          if (!best || df.length > best.getAttribute('data-field').length) best = el;
        }
      }
      if (!best) continue;
      best.classList.add('bad');
      best.append(h('p', { class: 'fe-field-err fe-server-err' }, p.message));
    }
    const slot = this.el.querySelector('.fe-problems-slot');
    if (slot) {
      const l = this.problemList(step ? step.id : null);
      slot.replaceChildren(...(l ? [l] : []));
    }
  }
}
