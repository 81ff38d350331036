// Metrics of `metrics` nodes (Y-PSNR/SSIM against a reference), as a table or as means per label.
import type { MetricRecord } from "../../nodes/graph/host";
import { formatDb } from "../ui/format";

export function formatSsim(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(4);
}

export interface MetricMean {
  label: string;
  psnr: number;
  ssim: number;
  count: number;
}

/** One row per label, averaged over that label's records (a pipeline may measure several images). */
export function meanByLabel(metrics: MetricRecord[]): MetricMean[] {
  const byLabel = new Map<string, MetricMean>();
  for (const record of metrics) {
    const mean = byLabel.get(record.label) ?? { label: record.label, psnr: 0, ssim: 0, count: 0 };
    mean.psnr += record.psnr;
    mean.ssim += record.ssim;
    mean.count += 1;
    byLabel.set(record.label, mean);
  }
  return [...byLabel.values()].map((mean) => ({ ...mean, psnr: mean.psnr / mean.count, ssim: mean.ssim / mean.count }));
}

export function MetricsTable({ metrics }: { metrics: MetricRecord[] }) {
  const bestPsnr = Math.max(...metrics.map((record) => record.psnr));
  const bestSsim = Math.max(...metrics.map((record) => record.ssim));
  const highlight = metrics.length > 1;
  return (
    <table className="table" data-testid="metrics-table">
      <thead>
        <tr>
          <th>Label</th>
          <th>Node</th>
          <th className="num">Y-PSNR</th>
          <th className="num">SSIM</th>
          <th className="num">Compared</th>
          <th className="num">Shave</th>
        </tr>
      </thead>
      <tbody>
        {metrics.map((record, index) => (
          <tr key={index}>
            <td>{record.label}</td>
            <td className="mono muted">{record.nodeId}</td>
            <td className="num">{highlight && record.psnr === bestPsnr ? <strong>{formatDb(record.psnr)}</strong> : formatDb(record.psnr)}</td>
            <td className="num">{highlight && record.ssim === bestSsim ? <strong>{formatSsim(record.ssim)}</strong> : formatSsim(record.ssim)}</td>
            <td className="num">
              {record.width} × {record.height}
            </td>
            <td className="num">{record.shave} px</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
