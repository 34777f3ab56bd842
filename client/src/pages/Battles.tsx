export default function Battles() { return <p>Battles is on its way.</p>; }
