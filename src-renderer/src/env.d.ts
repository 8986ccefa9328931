// Ambient types for the renderer build: Vite's asset and CSS imports.
/// <reference types="vite/client" />
