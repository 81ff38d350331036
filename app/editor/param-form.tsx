"use client";
// The selected node's parameters, as a form generated from its zod schema (see param-fields.ts). Typed text
// is validated as it is typed and committed on Enter or blur, only when valid; a slider commits on release,
// selects, checkboxes and the seed button at once. Invalid text stays in its field with the reason beneath.
import { useQuery } from "@tanstack/react-query";
import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import type { AnyNodeDefinition } from "../../nodes/graph/define-node";
import { groupModelsByFit, modelFit } from "../ui/model-fit";
import { int8Tag, precisionSummary } from "../ui/precision";
import { useTRPC } from "../ui/trpc";
import {
  type BooleanField,
  checkParam,
  type EnumField,
  type Field,
  formatShort,
  formatText,
  type GroupField,
  groupValue,
  isDefaultValue,
  isRecord,
  type JsonField,
  type NumberField,
  type Parsed,
  paramFields,
  parseJsonText,
  parseNumberText,
  parseStringText,
  randomSeed,
  sameValue,
  shownValue,
  sliderNumber,
  stepNumber,
  type TextField,
  type TupleField,
  tupleValue,
  withParam,
} from "./param-fields";
import styles from "./param-form.module.css";

export interface ParamFormProps {
  definition: AnyNodeDefinition;
  /** The node's stored params; left-out keys show their defaults. */
  params: Record<string, unknown>;
  onChange(next: Record<string, unknown>): void;
  /** Validation messages for this node. */
  problems: string[];
}

/** What one field edits: its stored value, a dry-run check of a candidate, and the commit. */
interface Binding {
  value: unknown;
  check(next: unknown): string | undefined;
  commit(next: unknown): void;
}

interface FieldProps<F extends Field> {
  field: F;
  binding: Binding;
  idPrefix: string;
}

export function ParamForm({ definition, params, onChange, problems }: ParamFormProps) {
  const idPrefix = useId();
  const fields = paramFields(definition.params);
  return (
    <div className={styles.form} data-testid="param-form">
      {problems.length > 0 && (
        <div role="alert" className={`alert error ${styles.problems}`} data-testid="param-problems">
          <ul>
            {problems.map((problem, i) => (
              <li key={i}>{problem}</li>
            ))}
          </ul>
        </div>
      )}
      {fields.length === 0 && <p className="muted small">This node has no parameters.</p>}
      {fields.map((field) => (
        <FieldView
          key={field.key}
          field={field}
          idPrefix={idPrefix}
          binding={{
            value: params[field.key],
            check: (next) => checkParam(definition, field.key, next),
            commit: (next) => onChange(withParam(params, field.key, next)),
          }}
        />
      ))}
    </div>
  );
}

function FieldView({ field, binding, idPrefix }: FieldProps<Field>) {
  switch (field.kind) {
    case "number":
    case "seed":
      return <NumberFieldView field={field} binding={binding} idPrefix={idPrefix} />;
    case "enum":
      return <EnumFieldView field={field} binding={binding} idPrefix={idPrefix} />;
    case "boolean":
      return <BooleanFieldView field={field} binding={binding} idPrefix={idPrefix} />;
    case "string":
      return <StringFieldView field={field} binding={binding} idPrefix={idPrefix} />;
    case "model":
      return <ModelFieldView field={field} binding={binding} idPrefix={idPrefix} />;
    case "tuple":
      return <TupleFieldView field={field} binding={binding} idPrefix={idPrefix} />;
    case "group":
      return <GroupFieldView field={field} binding={binding} idPrefix={idPrefix} />;
    case "json":
      return <JsonFieldView field={field} binding={binding} idPrefix={idPrefix} />;
  }
}

const inputIdOf = (idPrefix: string, field: Field) => `${idPrefix}${field.path.join(".")}`;
const testIdOf = (field: Field) => `param-${field.path.join(".")}`;

/** Text that follows the value it was made from until the user edits it; a new value replaces the edit. */
function useDraft<T>(value: unknown, format: (value: unknown) => T): [T, (next: T) => void] {
  const [draft, setDraft] = useState(() => ({ base: value, text: format(value) }));
  let current = draft;
  if (!sameValue(draft.base, value)) {
    current = { base: value, text: format(value) };
    setDraft(current);
  }
  return [current.text, (text) => setDraft({ base: value, text })];
}

/** Shared by the text-like fields: draft text, live error, commit on Enter/blur, Escape reverts. */
function useTextEntry(binding: Binding, shown: unknown, format: (value: unknown) => string, parse: (text: string) => Parsed<unknown>) {
  const [text, setText] = useDraft(shown, format);
  const dirty = text !== format(shown);
  const parsed = dirty ? parse(text) : undefined;
  const error = parsed ? (parsed.ok ? binding.check(parsed.value) : parsed.error) : binding.check(binding.value);
  const commit = (candidate: string = text) => {
    const result = parse(candidate);
    if (!result.ok || binding.check(result.value)) return;
    // The same value typed differently ("16.0") goes back to its usual spelling.
    if (sameValue(result.value, shown)) setText(format(shown));
    else binding.commit(result.value);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") commit();
    else if (event.key === "Escape" && dirty) {
      setText(format(shown));
      event.stopPropagation();
    }
  };
  return { text, setText, parsed, error, commit, onKeyDown };
}

function FieldRow({
  field,
  binding,
  inputId,
  error,
  help,
  children,
}: {
  field: Field;
  binding: Binding;
  inputId: string;
  error?: string;
  /** In place of the schema's help (the model picker says what the chosen model suits). */
  help?: string;
  children: ReactNode;
}) {
  const changed = !isDefaultValue(field, binding.value);
  return (
    <div className={field.kind === "model" ? `${styles.field} ${styles.wide}` : styles.field} data-changed={changed || undefined}>
      <label htmlFor={inputId} className={styles.label} title={field.help || undefined}>
        {field.label}
      </label>
      <div className={styles.control}>{children}</div>
      <Meta field={field} binding={binding} messageId={`${inputId}-message`} error={error} help={help} changed={changed} />
    </div>
  );
}

/** The line under a field: help (or the error in its place, so nothing shifts), and default / reset. */
function Meta({
  field,
  binding,
  messageId,
  error,
  help,
  changed,
}: {
  field: Field;
  binding: Binding;
  messageId: string;
  error?: string;
  help?: string;
  changed: boolean;
}) {
  const message = error ?? help ?? field.help;
  return (
    <div className={styles.meta}>
      <span id={messageId} className={error ? styles.error : styles.help} title={message || undefined} role={error ? "alert" : undefined}>
        {message}
      </span>
      {/* While the text is wrong, "default" would mislead and the message needs the room. */}
      {(changed || !error) && <DefaultStatus field={field} binding={binding} changed={changed} />}
    </div>
  );
}

function DefaultStatus({ field, binding, changed }: { field: Field; binding: Binding; changed: boolean }) {
  if (!changed) return <span className={styles.defaultMark}>default</span>;
  if (field.defaultValue === undefined && !field.optional) return null;
  const resetTo = field.kind === "group" ? "defaults" : formatShort(field, field.defaultValue);
  return (
    <button
      type="button"
      className={styles.reset}
      onClick={(event) => {
        // Inside a group's summary the click would also fold the group.
        event.preventDefault();
        // A top-level param is left out, as in a fresh node; a nested one needs its value inside the parent.
        binding.commit(field.path.length === 1 ? undefined : field.defaultValue);
      }}
      title={`Reset to ${field.kind === "group" ? "the defaults" : `the default (${resetTo})`}`}
      aria-label={`Reset ${field.label} to ${field.kind === "group" ? "the defaults" : `the default (${resetTo})`}`}
      data-testid={`${testIdOf(field)}-reset`}
    >
      ↺ <span className={styles.resetValue}>{resetTo}</span>
    </button>
  );
}

function NumberFieldView({ field, binding, idPrefix }: FieldProps<NumberField>) {
  const inputId = inputIdOf(idPrefix, field);
  const shown = shownValue(field, binding.value);
  const entry = useTextEntry(binding, shown, formatText, (text) => parseNumberText(field, text));
  const current = entry.parsed?.ok && typeof entry.parsed.value === "number" ? entry.parsed.value : typeof shown === "number" ? shown : undefined;
  const commitNumber = (value: number) => {
    entry.setText(String(value));
    entry.commit(String(value));
  };
  return (
    <FieldRow field={field} binding={binding} inputId={inputId} error={entry.error}>
      <input
        id={inputId}
        className={field.slider ? `${styles.number} ${styles.numberBeside}` : styles.number}
        type="text"
        inputMode={field.integer && (field.min ?? -1) >= 0 ? "numeric" : "decimal"}
        autoComplete="off"
        spellCheck={false}
        value={entry.text}
        placeholder={field.optional ? "not set" : field.nullable ? "none" : undefined}
        onChange={(event) => entry.setText(event.target.value)}
        onBlur={() => entry.commit()}
        onKeyDown={(event) => {
          if (event.key === "ArrowUp" || event.key === "ArrowDown") {
            event.preventDefault();
            commitNumber(stepNumber(field, current ?? field.min ?? 0, event.key === "ArrowUp" ? 1 : -1, event.shiftKey));
          } else entry.onKeyDown(event);
        }}
        aria-invalid={entry.error ? true : undefined}
        aria-describedby={`${inputId}-message`}
        data-testid={testIdOf(field)}
      />
      {field.slider && (
        <Slider field={field} value={current ?? field.min!} onInput={(value) => entry.setText(String(value))} onCommit={commitNumber} />
      )}
      {field.keyword && (
        <button
          type="button"
          className={styles.iconButton}
          onClick={() => {
            entry.setText(field.keyword!);
            entry.commit(field.keyword!);
          }}
          title={`Set to ${field.keyword}`}
          aria-pressed={binding.value === field.keyword}
          data-testid={`${testIdOf(field)}-${field.keyword}`}
        >
          {field.keyword}
        </button>
      )}
      {field.kind === "seed" && (
        <button
          type="button"
          className={styles.iconButton}
          onClick={() => commitNumber(randomSeed(field))}
          title="Random seed"
          aria-label={`Random ${field.label.toLowerCase()}`}
          data-testid={`${testIdOf(field)}-random`}
        >
          ⚄
        </button>
      )}
    </FieldRow>
  );
}

/**
 * A range input beside the number: it updates the text while dragging and commits once, on release (the
 * native change event, which React's onChange does not expose), so one drag is one edit.
 */
function Slider({ field, value, onInput, onCommit }: { field: NumberField; value: number; onInput(value: number): void; onCommit(value: number): void }) {
  const ref = useRef<HTMLInputElement>(null);
  const commitRef = useRef(onCommit);
  useEffect(() => {
    commitRef.current = onCommit;
  });
  useEffect(() => {
    const slider = ref.current!;
    const onChange = () => commitRef.current(sliderNumber(field, slider.value));
    slider.addEventListener("change", onChange);
    return () => slider.removeEventListener("change", onChange);
  }, [field]);
  return (
    <input
      ref={ref}
      type="range"
      className={styles.slider}
      min={field.min}
      max={field.max}
      step={field.step}
      value={value}
      onChange={(event) => onInput(sliderNumber(field, event.target.value))}
      // The text input beside it takes the keyboard (arrows step it), so the slider stays out of the tab order.
      tabIndex={-1}
      aria-label={`${field.label} slider`}
      data-testid={`${testIdOf(field)}-slider`}
    />
  );
}

const UNSET = "unset";
const NULL = "null";
const OTHER = "other";

function EnumFieldView({ field, binding, idPrefix }: FieldProps<EnumField>) {
  const inputId = inputIdOf(idPrefix, field);
  const shown = shownValue(field, binding.value);
  const index = field.options.findIndex((option) => option === shown);
  const selected = index >= 0 ? String(index) : shown === undefined ? UNSET : shown === null ? NULL : OTHER;
  const choose = (choice: string) => {
    const next = choice === UNSET ? undefined : choice === NULL ? null : field.options[Number(choice)];
    if (!binding.check(next)) binding.commit(next);
  };
  return (
    <FieldRow field={field} binding={binding} inputId={inputId} error={binding.check(binding.value)}>
      <select
        id={inputId}
        className={styles.select}
        value={selected}
        onChange={(event) => choose(event.target.value)}
        aria-describedby={`${inputId}-message`}
        data-testid={testIdOf(field)}
      >
        {(field.optional || selected === UNSET) && <option value={UNSET}>not set</option>}
        {(field.nullable || selected === NULL) && <option value={NULL}>none</option>}
        {selected === OTHER && (
          <option value={OTHER} disabled>
            {formatText(shown)} (not an option)
          </option>
        )}
        {field.options.map((option, i) => (
          <option key={i} value={String(i)}>
            {formatText(option)}
          </option>
        ))}
      </select>
    </FieldRow>
  );
}

function BooleanFieldView({ field, binding, idPrefix }: FieldProps<BooleanField>) {
  const inputId = inputIdOf(idPrefix, field);
  const shown = shownValue(field, binding.value);
  return (
    <FieldRow field={field} binding={binding} inputId={inputId} error={binding.check(binding.value)}>
      <input
        id={inputId}
        type="checkbox"
        className={styles.checkbox}
        checked={shown === true}
        onChange={(event) => binding.commit(event.target.checked)}
        aria-describedby={`${inputId}-message`}
        data-testid={testIdOf(field)}
      />
    </FieldRow>
  );
}

function TextEntryInput({ field, binding, idPrefix, parse }: FieldProps<Field> & { parse(text: string): Parsed<unknown> }) {
  const inputId = inputIdOf(idPrefix, field);
  const entry = useTextEntry(binding, shownValue(field, binding.value), formatText, parse);
  return (
    <FieldRow field={field} binding={binding} inputId={inputId} error={entry.error}>
      <input
        id={inputId}
        className={field.kind === "json" ? `${styles.text} mono` : styles.text}
        type="text"
        autoComplete="off"
        spellCheck={false}
        value={entry.text}
        placeholder={field.optional ? "not set" : field.nullable ? "none" : undefined}
        onChange={(event) => entry.setText(event.target.value)}
        onBlur={() => entry.commit()}
        onKeyDown={entry.onKeyDown}
        aria-invalid={entry.error ? true : undefined}
        aria-describedby={`${inputId}-message`}
        data-testid={testIdOf(field)}
      />
    </FieldRow>
  );
}

function StringFieldView(props: FieldProps<TextField>) {
  return <TextEntryInput {...props} parse={(text) => parseStringText(props.field, text)} />;
}

function JsonFieldView(props: FieldProps<JsonField>) {
  return <TextEntryInput {...props} parse={(text) => parseJsonText(props.field, text)} />;
}

function ModelFieldView({ field, binding, idPrefix }: FieldProps<TextField>) {
  const inputId = inputIdOf(idPrefix, field);
  const trpc = useTRPC();
  const models = useQuery(trpc.models.list.queryOptions());
  const shown = formatText(shownValue(field, binding.value));
  const list = models.data ?? [];
  const installed = list.some((model) => model.id === shown);
  const error =
    binding.check(binding.value) ??
    (models.isError
      ? `could not load the models list: ${models.error.message}`
      : models.isSuccess && !installed
        ? `model "${shown}" is not installed`
        : undefined);
  // Grouped by what the models suit ("photo · real-world", "art · real-world", "photo · clean", ...).
  const groups = groupModelsByFit(list);
  const chosen = list.find((model) => model.id === shown);
  const fit = chosen ? modelFit(chosen) : undefined;
  return (
    <FieldRow field={field} binding={binding} inputId={inputId} error={error} help={fit?.description}>
      <select
        id={inputId}
        className={styles.select}
        value={shown}
        disabled={models.isPending}
        onChange={(event) => binding.commit(event.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${inputId}-message`}
        data-testid={testIdOf(field)}
      >
        {!installed && <option value={shown}>{models.isPending ? `${shown} (loading models…)` : `${shown}: not installed`}</option>}
        {groups.map((group) => (
          <optgroup key={group.label} label={group.label}>
            {group.models.map((model) => (
              <option key={model.id} value={model.id} title={`${model.id}: ${modelFit(model).description}`}>
                {model.title} · x{model.scale} · {model.speedClass}
                {int8Tag(model.int8) ? ` · ${int8Tag(model.int8)}` : ""}
                {model.builtIn ? "" : " · uploaded"}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
      {fit?.label && (
        <span className={styles.fit} title={fit.description} data-testid={`${testIdOf(field)}-fit`}>
          {fit.label}
        </span>
      )}
      {chosen && (
        <span className={styles.fit} title={precisionSummary(chosen.int8)} data-testid={`${testIdOf(field)}-precision`}>
          {int8Tag(chosen.int8) ?? "fp32 only"}
        </span>
      )}
    </FieldRow>
  );
}

function TupleFieldView({ field, binding, idPrefix }: FieldProps<TupleField>) {
  const inputId = inputIdOf(idPrefix, field);
  const shown = tupleValue(field, binding.value);
  const format = (value: unknown) => (Array.isArray(value) ? value.map(formatText) : []);
  const [texts, setTexts] = useDraft(shown, format);
  const parsed = field.items.map((item, i) => parseNumberText(item, texts[i] ?? ""));
  const dirty = texts.some((text, i) => text !== formatText(shown[i]));
  const itemIndex = parsed.findIndex((result) => !result.ok);
  const candidate = parsed.map((result) => (result.ok ? result.value : undefined));
  const itemError = itemIndex >= 0 && !parsed[itemIndex].ok ? `${field.items[itemIndex].label}: ${parsed[itemIndex].error}` : undefined;
  const error = dirty ? (itemError ?? binding.check(candidate)) : binding.check(binding.value);
  const commit = (values: unknown[] = candidate) => {
    if (itemError && values === candidate) return;
    if (sameValue(values, shown)) setTexts(format(shown));
    else if (!binding.check(values)) binding.commit(values);
  };
  return (
    <FieldRow field={field} binding={binding} inputId={`${inputId}.0`} error={error}>
      <div className={styles.tuple} role="group" aria-label={field.label} data-testid={testIdOf(field)}>
        {field.items.map((item, i) => (
          <input
            key={i}
            id={`${inputId}.${i}`}
            className={styles.number}
            type="text"
            inputMode="decimal"
            autoComplete="off"
            spellCheck={false}
            value={texts[i] ?? ""}
            title={item.label}
            aria-label={`${field.label} ${item.label}`}
            onChange={(event) => setTexts(texts.map((text, j) => (j === i ? event.target.value : text)))}
            onBlur={() => commit()}
            onKeyDown={(event) => {
              if (event.key === "Enter") commit();
              else if (event.key === "Escape" && dirty) {
                setTexts(format(shown));
                event.stopPropagation();
              } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
                event.preventDefault();
                const from = typeof candidate[i] === "number" ? candidate[i] : typeof shown[i] === "number" ? shown[i] : (item.min ?? 0);
                const values = [...candidate];
                values[i] = stepNumber(item, from as number, event.key === "ArrowUp" ? 1 : -1, event.shiftKey);
                setTexts(values.map((value, j) => (j === i ? formatText(value) : texts[j])));
                if (values.every((value) => typeof value === "number")) commit(values);
              }
            }}
            aria-invalid={error && (itemIndex === i || itemIndex < 0) ? true : undefined}
            aria-describedby={`${inputId}.0-message`}
            data-testid={`${testIdOf(field)}.${i}`}
          />
        ))}
      </div>
    </FieldRow>
  );
}

function GroupFieldView({ field, binding, idPrefix }: FieldProps<GroupField>) {
  const inputId = inputIdOf(idPrefix, field);
  const changed = !isDefaultValue(field, binding.value);
  const error = binding.check(binding.value);
  const base = groupValue(field, binding.value);
  const shown = shownValue(field, binding.value);
  const childValue = (child: Field) => (isRecord(shown) ? shown[child.key] : undefined);
  const changedCount = field.fields.filter((child) => !isDefaultValue(child, childValue(child))).length;
  return (
    <details className={styles.group} data-changed={changed || undefined} data-testid={testIdOf(field)}>
      <summary className={styles.groupSummary}>
        <span className={styles.groupLabel} title={field.help || undefined}>
          {field.label}
        </span>
        {error ? (
          <span className={styles.groupError} title={error}>
            invalid
          </span>
        ) : (
          changedCount > 0 && (
            <span className={styles.groupCount} title={`${changedCount} changed`}>
              {changedCount}
            </span>
          )
        )}
        <DefaultStatus field={field} binding={binding} changed={changed} />
      </summary>
      <div className={styles.groupBody}>
        <p id={`${inputId}-message`} className={error ? styles.error : styles.help} role={error ? "alert" : undefined}>
          {error ?? field.help}
        </p>
        {field.fields.map((child) => (
          <FieldView
            key={child.key}
            field={child}
            idPrefix={idPrefix}
            binding={{
              value: childValue(child),
              check: (next) => binding.check(withParam(base, child.key, next)),
              commit: (next) => binding.commit(withParam(base, child.key, next)),
            }}
          />
        ))}
      </div>
    </details>
  );
}
