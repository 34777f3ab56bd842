export default function P2P() { return <p>P2P is on its way.</p>; }
