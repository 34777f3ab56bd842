export default function Creator() { return <p>Creator is on its way.</p>; }
