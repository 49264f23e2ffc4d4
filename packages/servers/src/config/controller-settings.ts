import { section } from './define.js';
import { storeSection } from './store-settings.js';

/** The controller's settings (`controller.*`). */
export function controllerSection() {
  return section(
    { store: storeSection('controller', 'rules', 'saved before each change is acknowledged', {}) },
    'The rules controller (Amalgam8 /v1/rules)',
  );
}
