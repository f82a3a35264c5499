// The targets editor shared by profiles, targeted agent settings and actions:
// all computers, or computers matching every rule, or an explicit list (names or ids).
import { html, $, $$, lines } from './ui.js';

const knownAttributes = ['group', 'site', 'computerName', 'domain', 'os'];

function ruleRow(prefix, rule = { attribute: 'group', pattern: '' }) {
  return html`<div class="rule-row">
    <input class="rule-attr" list="${prefix}-attributes" value="${rule.attribute}" aria-label="Attribute" spellcheck="false">
    <span class="rule-op">matches</span>
    <input class="rule-pattern" value="${rule.pattern}" placeholder="pattern, * and ? allowed" aria-label="Pattern" spellcheck="false">
    <button type="button" class="btn btn-icon rule-remove" title="Remove this rule" aria-label="Remove rule">×</button>
  </div>`;
}

export function targetsEditor(prefix, targets = { all: true, rules: [], agents: [] }, { allowAll = true } = {}) {
  const all = allowAll && !!targets.all;
  return html`<div class="targets" id="${prefix}-targets">
    <datalist id="${prefix}-attributes">${knownAttributes.map((a) => html`<option value="${a}"></option>`)}</datalist>
    <div class="segmented">
      ${allowAll ? html`<label><input type="radio" name="${prefix}-scope" id="${prefix}-scope-all" value="all" ${all ? 'checked' : ''}> All computers</label>` : ''}
      <label><input type="radio" name="${prefix}-scope" id="${prefix}-scope-selected" value="selected" ${all ? '' : 'checked'}> Selected computers</label>
    </div>
    <div class="targets-selected" ${all ? 'hidden' : ''}>
      <div class="field">
        <span class="label">Computers whose attributes match every rule</span>
        <div class="rules">${(targets.rules ?? []).map((r) => ruleRow(prefix, r))}</div>
        <button type="button" class="btn btn-small" id="${prefix}-add-rule">+ Add rule</button>
      </div>
      <div class="field">
        <label class="label" for="${prefix}-agents">…or these computers (names or agent ids, one per line)</label>
        <textarea id="${prefix}-agents" rows="3" spellcheck="false">${(targets.agents ?? []).join('\n')}</textarea>
      </div>
    </div>
  </div>`;
}

export function wireTargets(root, prefix) {
  const box = $(`#${prefix}-targets`, root);
  const selected = $('.targets-selected', box);
  for (const radio of $$(`input[name="${prefix}-scope"]`, box)) {
    radio.addEventListener('change', () => { selected.hidden = radio.value === 'all' && radio.checked; });
  }
  $(`#${prefix}-add-rule`, box).addEventListener('click', () => {
    $('.rules', box).insertAdjacentHTML('beforeend', String(ruleRow(prefix)));
    $$('.rule-pattern', box).at(-1).focus();
  });
  box.addEventListener('click', (event) => {
    if (event.target.classList.contains('rule-remove')) event.target.closest('.rule-row').remove();
  });
}

export function readTargets(root, prefix) {
  const box = $(`#${prefix}-targets`, root);
  const all = $(`#${prefix}-scope-all`, box)?.checked ?? false;
  if (all) return { all: true, rules: [], agents: [] };
  const rules = $$('.rule-row', box)
    .map((row) => ({ attribute: $('.rule-attr', row).value.trim(), pattern: $('.rule-pattern', row).value.trim() }))
    .filter((r) => r.attribute && r.pattern);
  return { all: false, rules, agents: lines($(`#${prefix}-agents`, box).value) };
}
