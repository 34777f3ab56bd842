export default function Admin() { return <p>Admin is on its way.</p>; }
