// The Svelte page: Settings.svelte, compiled by svelte/compiler at build time (build.mjs).
import 'byokit/ui';
import { mount } from 'svelte';
import Settings from './Settings.svelte';
import { signIn } from './session.js';

mount(Settings, { target: document.querySelector('#app'), props: { session: await signIn() } });
