/** Deterministic trace ids live in core (the engine gives tools their trace headers). */
export * from '../core/trace-ids.ts';
