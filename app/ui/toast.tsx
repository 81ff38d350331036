"use client";
// Short notices at the bottom of the screen, optionally with one action ("Undo").
import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState } from "react";

export interface ToastOptions {
  kind?: "info" | "error";
  action?: { label: string; run: () => void };
  /** How long it stays; default 5 s (8 s with an action). */
  ms?: number;
}

interface Toast extends ToastOptions {
  id: number;
  message: string;
}

const ToastContext = createContext<(message: string, options?: ToastOptions) => void>(() => {});

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((toast) => toast.id !== id)), []);
  const show = useCallback(
    (message: string, options: ToastOptions = {}) => {
      const id = nextId.current++;
      setToasts((list) => [...list.slice(-3), { id, message, ...options }]);
      setTimeout(() => dismiss(id), options.ms ?? (options.action ? 8000 : 5000));
    },
    [dismiss],
  );
  const value = useMemo(() => show, [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toast-stack" role="status" aria-live="polite">
        {toasts.map((toast) => (
          <div key={toast.id} className={`toast ${toast.kind ?? ""}`}>
            <span>{toast.message}</span>
            {toast.action && (
              <button
                className="small"
                onClick={() => {
                  toast.action!.run();
                  dismiss(toast.id);
                }}
              >
                {toast.action.label}
              </button>
            )}
            <button className="ghost small" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast() {
  return useContext(ToastContext);
}
