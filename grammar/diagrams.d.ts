/** Railroad diagrams of the parser as one self-contained HTML page (see diagrams.js). */
export function renderDiagrams(productions: unknown[]): string;
