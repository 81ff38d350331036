"use client";
// A destructive action asked twice, in place: the button turns into "question? [confirm] [cancel]".
// Escape or Cancel puts the button back and focus on it.
import { useEffect, useRef, useState } from "react";

export function ConfirmButton({
  label,
  question,
  confirmLabel = label,
  onConfirm,
  disabled,
  testId,
}: {
  label: string;
  question: string;
  confirmLabel?: string;
  onConfirm: () => void;
  disabled?: boolean;
  testId?: string;
}) {
  const [asking, setAsking] = useState(false);
  const trigger = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (wasAsking.current && !asking) trigger.current?.focus();
    wasAsking.current = asking;
  }, [asking]);

  if (!asking) {
    return (
      <button ref={trigger} type="button" className="small danger" disabled={disabled} onClick={() => setAsking(true)} data-testid={testId}>
        {label}
      </button>
    );
  }
  return (
    <span className="row" role="group" aria-label={question} onKeyDown={(event) => event.key === "Escape" && setAsking(false)}>
      <span className="small" style={{ whiteSpace: "nowrap" }}>
        {question}
      </span>
      <button
        type="button"
        className="small danger"
        autoFocus
        data-testid={testId && `${testId}-confirm`}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" className="small ghost" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
