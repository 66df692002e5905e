// The Vue page: Settings.vue, compiled by @vue/compiler-sfc at build time (build.mjs).
import 'byokit/ui';
import { createApp } from 'vue';
import Settings from './Settings.vue';
import { signIn } from './session.js';

createApp(Settings, { session: await signIn() }).mount('#app');
