// Renderer entry: mounts the Svelte app once the transport to the engine is ready.

import { mount } from 'svelte';
import App from './App.svelte';
import './styles.css';

mount(App, { target: document.getElementById('app')! });
