// The list of call flows: create, open, delete.

import { api, errorText } from '../api.js';
import { h } from './dom.js';

// A new flow starts with one step, at the top left of the canvas.
export function firstDocument() {
  return {
    format: 1,
    start: 'welcome',
    steps: [{ id: 'welcome', type: 'play', prompt: { text: 'Thank you for calling.' }, x: 40, y: 40 }],
  };
}

export class FlowList {
  // root: the section to draw in; me: the answer of /v1/me.
  constructor(root, me) {
    this.root = root;
    this.me = me;
    this.accounts = new Map([[me.account.id, me.account]]);
    this.build();
  }

  build() {
    this.nameIn = h('input', { type: 'text', name: 'name', id: 'flow-name', maxlength: 200, required: true, placeholder: 'Main line' });
    this.accountSel = h('select', { name: 'account', id: 'flow-account', hidden: true });
    this.createErr = h('p', { class: 'error', id: 'flow-create-error', role: 'alert', hidden: true });
    this.createBtn = h('button', { type: 'submit', id: 'flow-create-btn' }, 'Create flow');
    const form = h('form', { class: 'fl-create', id: 'flow-create', novalidate: true },
      h('label', { for: 'flow-name' }, 'New flow', this.nameIn),
      h('label', { for: 'flow-account', class: 'fl-account', hidden: true }, 'Account', this.accountSel),
      this.createBtn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.create();
    });
    this.state = h('p', { class: 'fl-state', id: 'flows-state', role: 'status' });
    this.body = h('tbody', { id: 'flows-rows' });
    this.table = h('table', { class: 'fl-table', hidden: true },
      h('thead', {}, h('tr', {},
        h('th', {}, 'Name'), h('th', { class: 'fl-acct' }, 'Account'), h('th', {}, 'Version'),
        h('th', {}, 'Used by'), h('th', {}, 'Updated'), h('th', {}, h('span', { class: 'sr' }, 'Actions')))),
      this.body);
    this.more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => this.load(this.cursor) }, 'More');
    this.root.replaceChildren(
      h('h1', {}, 'Call flows'),
      h('p', { class: 'hint' }, 'A flow says what happens to a call: notices, hours, menus, who is rung. ' +
        'Live calls do not run flows yet; simulate one from the editor.'),
      form, this.createErr, this.state, this.table, this.more);
  }

  async loadAccounts() {
    const res = await api('GET', '/v1/accounts?limit=200');
    if (res.status !== 200 || !res.data) return;
    for (const a of res.data.data || []) this.accounts.set(a.id, a);
    if (this.accounts.size > 1) {
      this.accountSel.replaceChildren(...[...this.accounts.values()].map((a) =>
        h('option', { value: a.id, selected: a.id === this.me.account.id }, a.name)));
      this.accountSel.hidden = false;
      this.root.querySelector('.fl-account').hidden = false;
      this.table.classList.add('fl-multi');
    }
  }

  async show() {
    this.body.replaceChildren();
    this.table.hidden = true;
    this.state.className = 'fl-state';
    this.state.textContent = 'Loading the flows…';
    await this.loadAccounts();
    await this.load(null);
  }

  async load(cursor) {
    const q = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const res = await api('GET', `/v1/flows?limit=100${q}`);
    if (res.status === 401) return;
    if (res.status !== 200 || !res.data) {
      this.state.className = 'fl-state error';
      this.state.replaceChildren(errorText(res, 'The flows cannot be listed'), ' ',
        h('button', { type: 'button', class: 'link', onclick: () => this.show() }, 'Try again'));
      return;
    }
    for (const f of res.data.data || []) this.body.append(this.row(f));
    this.cursor = res.data.next_cursor;
    this.more.hidden = !this.cursor;
    this.refreshEmpty();
  }

  refreshEmpty() {
    const n = this.body.children.length;
    this.table.hidden = n === 0;
    this.state.className = 'fl-state';
    this.state.textContent = n === 0 ? 'No call flows yet. Name one above to make the first.' : '';
    this.state.hidden = n !== 0;
  }

  row(f) {
    const acct = this.accounts.get(f.account_id);
    const used = f.numbers + f.pools;
    const msg = h('div', { class: 'error fl-row-error', role: 'alert', hidden: true });
    const actions = h('td', { class: 'fl-actions' });
    const tr = h('tr', { 'data-flow-id': f.id },
      h('td', {}, h('a', { href: `#/flows/${f.id}`, class: 'fl-open' }, f.name), msg),
      h('td', { class: 'fl-acct' }, acct ? acct.name : `account ${f.account_id}`),
      h('td', { class: 'fl-version' }, String(f.version)),
      h('td', {}, used ? `${f.numbers} number${f.numbers === 1 ? '' : 's'}, ${f.pools} pool${f.pools === 1 ? '' : 's'}` : '—'),
      h('td', {}, new Date(f.updated_at).toLocaleString()),
      actions);
    const idle = () => actions.replaceChildren(
      h('a', { href: `#/flows/${f.id}`, class: 'button small' }, 'Open'),
      h('button', { type: 'button', class: 'small danger fl-delete', onclick: confirm }, 'Delete'));
    const confirm = () => {
      const yes = h('button', { type: 'button', class: 'small danger fl-delete-yes' }, 'Delete');
      actions.replaceChildren(h('span', { class: 'fl-confirm' }, `Delete “${f.name}”?`), yes,
        h('button', { type: 'button', class: 'small secondary', onclick: idle }, 'Cancel'));
      yes.addEventListener('click', async () => {
        yes.disabled = true;
        const res = await api('DELETE', `/v1/flows/${f.id}`);
        if (res.status === 204) {
          tr.remove();
          this.refreshEmpty();
          return;
        }
        idle();
        msg.hidden = false;
        msg.textContent = res.status === 409
          ? `In use, not deleted: ${res.data && res.data.error ? res.data.error.message : 'numbers or pools use this flow'}.`
          : errorText(res, 'Not deleted');
      });
      yes.focus();
    };
    idle();
    return tr;
  }

  async create() {
    const name = this.nameIn.value.trim();
    this.createErr.hidden = true;
    if (!name) {
      this.createErr.textContent = 'Give the flow a name.';
      this.createErr.hidden = false;
      this.nameIn.focus();
      return;
    }
    const body = { name, flow: firstDocument() };
    if (!this.accountSel.hidden) body.account_id = Number(this.accountSel.value);
    this.createBtn.disabled = true;
    const res = await api('POST', '/v1/flows', body);
    this.createBtn.disabled = false;
    if (res.status === 201 && res.data) {
      this.nameIn.value = '';
      location.hash = `#/flows/${res.data.id}`;
      return;
    }
    if (res.status === 401) return;
    this.createErr.textContent = errorText(res, 'The flow was not made');
    this.createErr.hidden = false;
  }
}
