// Types of source-stamp.mjs (plain JavaScript so that it runs before any TypeScript loader).
export declare const ROOT: string;
/** SHA-256 over every file under `<root>/src` (path and bytes, sorted) and the tsconfig files. */
export declare function sourceStamp(root?: string): string;
/** Whether `<root>/dist/source-stamp.json` matches the sources as they are now. */
export declare function distIsFresh(root?: string): boolean;
/** Write `<root>/dist/source-stamp.json` (temp file, then rename). */
export declare function writeStamp(root?: string): void;
