import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { Credentials } from './components/credentials.js';
import { AuthorizationView } from './views/authorization.js';
import { RecipesView } from './views/recipes.js';
import { RulesView } from './views/rules.js';
import { ServicesView } from './views/services.js';
import { TopologyView } from './views/topology.js';

const VIEWS = [
  ['services', 'Services', ServicesView],
  ['topology', 'Topology', TopologyView],
  ['rules', 'Rules', RulesView],
  ['recipes', 'Recipes', RecipesView],
  ['authorization', 'Authorization', AuthorizationView],
] as const;
type ViewName = (typeof VIEWS)[number][0];

/** The view named by the URL's hash (`#/rules`), so views can be linked and the back button works. */
function viewOfHash(): ViewName {
  const name = location.hash.replace(/^#\/?/, '');
  return VIEWS.find(([n]) => n === name)?.[0] ?? 'services';
}

function App() {
  const [view, setView] = useState<ViewName>(viewOfHash);
  useEffect(() => {
    const follow = (): void => setView(viewOfHash());
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  useEffect(() => {
    const label = VIEWS.find(([n]) => n === view)?.[1] ?? '';
    document.title = `${label} · Weft`;
    // Screen readers and keyboards land on the new view's content.
    document.getElementById('main')?.focus();
  }, [view]);
  const Current = VIEWS.find(([n]) => n === view)?.[2] ?? ServicesView;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <h1>
          Weft <span class="subtitle">control plane</span>
        </h1>
        <nav aria-label="Views">
          <ul>
            {VIEWS.map(([name, label]) => (
              <li key={name}>
                <a href={`#/${name}`} aria-current={view === name ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <Credentials />
      </header>
      <main id="main" tabIndex={-1}>
        <Current />
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
