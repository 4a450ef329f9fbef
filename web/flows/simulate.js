// The simulate tab of the flow editor: a made-up call walked through a
// saved version (POST /v1/flows/{id}/simulate), its path drawn on the
// canvas.

import { api, errorText } from '../api.js';
import { h } from './dom.js';
import { CONFIDENCES } from './model.js';

const ATTRIBUTION = ['channel', 'source', 'medium', 'campaign', 'keyword', 'confidence', 'landing_page'];

export class Simulator {
  constructor(editor) {
    this.ed = editor;
    this.values = {};
    this.result = null;
    this.error = '';
  }

  input(name, label, opts = {}) {
    const el = opts.options
      ? h('select', { name },
        h('option', { value: '' }, '(none)'),
        opts.options.map((o) => h('option', { value: o, selected: this.values[name] === o }, o)))
      : h('input', { type: opts.type || 'text', name, value: this.values[name] || '', placeholder: opts.placeholder });
    el.id = `fe-sim-${name}`;
    el.addEventListener('input', () => { this.values[name] = el.value; });
    el.addEventListener('change', () => { this.values[name] = el.value; });
    return h('div', { class: 'fe-field' }, h('label', { for: el.id }, label), el);
  }

  render(el) {
    const ed = this.ed;
    const version = ed.readOnly ? ed.flow.version : ed.flow.latest_version;
    const form = h('form', { class: 'fe-sim', novalidate: true },
      h('p', { class: 'fe-hint' }, `Walks a made-up call through version ${version}. Nothing is dialled or stored.`),
      ed.dirty && !ed.readOnly ? h('p', { class: 'fe-warn-line' }, 'Unsaved changes are not included: save first.') : null,
      this.input('caller', 'Caller', { type: 'tel', placeholder: '+14155550123 (empty: withheld)' }),
      this.input('at', "Time (this browser's clock)", { type: 'datetime-local' }),
      h('div', { class: 'fe-pair' },
        this.input('digits', 'Keys pressed', { placeholder: '12' }),
        this.input('dial', 'Dial outcomes', { placeholder: 'no_answer, busy' })),
      h('details', { class: 'fe-more' }, h('summary', {}, 'Attribution and number'),
        ATTRIBUTION.map((k) => this.input(k, k.replace('_', ' '), k === 'confidence' ? { options: CONFIDENCES } : {})),
        this.input('tracking_number', 'Tracking number', { type: 'tel' }),
        this.input('number_name', 'Number name')),
      h('div', { class: 'fe-row' },
        h('button', { type: 'submit', id: 'fe-sim-run' }, 'Run'),
        this.result ? h('button', {
          type: 'button', class: 'secondary',
          onclick: () => { this.result = null; ed.showPath(null); this.render(el); },
        }, 'Clear the path') : null));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.run(el, version);
    });
    el.replaceChildren(...[h('h2', {}, 'Simulate a call'), form, this.resultView()].filter(Boolean));
  }

  async run(el, version) {
    const v = this.values;
    const body = { version };
    if (v.caller) body.caller = v.caller.trim();
    if (v.at) body.at = new Date(v.at).toISOString();
    if (v.digits) body.digits = v.digits.trim();
    if (v.dial) body.dial = v.dial.split(/[\s,]+/).filter(Boolean);
    const attribution = {};
    for (const k of ATTRIBUTION) if (v[k]) attribution[k] = v[k];
    if (Object.keys(attribution).length) body.attribution = attribution;
    if (v.tracking_number) body.tracking_number = v.tracking_number.trim();
    if (v.number_name) body.number_name = v.number_name;
    this.error = '';
    const res = await api('POST', `/v1/flows/${this.ed.id}/simulate`, body);
    if (res.status === 200 && res.data) {
      this.result = res.data;
      this.ed.showPath(res.data.path || []);
    } else {
      this.result = null;
      this.error = errorText(res, 'Cannot simulate');
      this.ed.showPath(null);
    }
    if (this.ed.tab === 'simulate') this.render(el);
  }

  resultView() {
    if (this.error) return h('p', { class: 'error', role: 'alert' }, this.error);
    const r = this.result;
    if (!r) return null;
    const facts = [];
    if (r.tags && r.tags.length) facts.push(`tags ${r.tags.join(', ')}`);
    if (r.value !== null && r.value !== undefined) facts.push(`value ${r.value}`);
    if (r.lead) facts.push(r.lead);
    const nf = r.fields ? Object.keys(r.fields).length : 0;
    if (nf) facts.push(Object.entries(r.fields).map(([k, x]) => `${k}=${x}`).join(', '));
    return h('div', { class: 'fe-sim-result', 'aria-live': 'polite' },
      h('h3', {}, `Ended: ${r.end}`),
      h('ol', { class: 'fe-path' }, (r.path || []).map((hop) => h('li', {},
        h('button', { type: 'button', class: 'link', onclick: () => this.ed.select(hop.step, true) }, hop.step),
        ` ${hop.type}`, hop.exit ? ` → ${hop.exit}` : '',
        hop.detail ? h('span', { class: 'fe-hint' }, ` (${hop.detail})`) : null,
        hop.action && hop.action.say ? h('div', { class: 'fe-say' }, `“${hop.action.say}”`) : null))),
      facts.length ? h('p', { class: 'fe-hint' }, facts.join(' · ')) : null,
      r.ivr_ms ? h('p', { class: 'fe-hint' }, `${(r.ivr_ms / 1000).toFixed(0)} s in menus`) : null);
  }
}
