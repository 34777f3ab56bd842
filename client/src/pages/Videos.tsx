export default function Videos() { return <p>Videos is on its way.</p>; }
