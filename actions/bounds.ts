// Catalog bounds (DESIGN §4.6): clamp a requested value and say so in one sentence for the rationale.
import type { CatalogService } from '../engine/types.ts';

export interface Clamped {
  value: number;
  note?: string;
}

export function clampToBound(service: CatalogService, key: string, requested: number, label = key): Clamped {
  const bound = service.bounds?.[key];
  let value = requested;
  if (bound?.max !== undefined && value > bound.max) value = bound.max;
  if (bound?.min !== undefined && value < bound.min) value = bound.min;
  if (value === requested) return { value };
  return { value, note: `${label} clamped from ${requested} to ${value} (catalog bound)` };
}
