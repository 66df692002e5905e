// <byokit-api-config> and <byokit-usage> in React 19: properties, attributes and events through
// React's own JSX. React 19 sets a prop as a DOM property when the custom element has it
// (`getToken`, `baseUrls`, `days`), as an attribute otherwise (`base-url`), and listens to
// `on<event name>` props (`onbyokit-saved`) with addEventListener.
import 'byokit/ui';
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { signIn, said, WINDOWS } from './session.js';

function Settings({ session }) {
  const [days, setDays] = useState(30);
  const [status, setStatus] = useState('');
  const [usage, setUsage] = useState('');
  return (
    <>
      <p id="fw-who">Signed in as {session.user}, with React</p>
      <p id="fw-status" role="status">{status}</p>
      <div role="group" aria-label="Window (the app's own buttons)">
        {WINDOWS.map((d) => (
          <button key={d} type="button" id={`fw-days-${d}`} aria-pressed={days === d} onClick={() => setDays(d)}>{d} days</button>
        ))}
      </div>
      <p id="fw-usage" role="status">{usage}</p>
      <byokit-api-config
        base-url={session.byokd}
        getToken={session.getToken}
        baseUrls={session.baseUrls}
        onbyokit-loaded={(e) => setStatus(said.loaded(e.detail.config))}
        onbyokit-saved={(e) => setStatus(said.saved(e.detail))}
        onbyokit-tested={(e) => setStatus(said.tested(e.detail))}
        onbyokit-error={(e) => setStatus(said.error(e.detail))}
      />
      <byokit-usage
        base-url={session.byokd}
        getToken={session.getToken}
        days={days}
        onbyokit-loaded={(e) => { setDays(e.detail.days); setUsage(said.usage(e.detail)); }}
        onbyokit-error={(e) => setUsage(said.error(e.detail))}
      />
    </>
  );
}

const session = await signIn();
createRoot(document.querySelector('#app')).render(<Settings session={session} />);
