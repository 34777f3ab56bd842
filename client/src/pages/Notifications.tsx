export default function Notifications() { return <p>Notifications is on its way.</p>; }
