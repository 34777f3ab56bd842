export default function Wallet() { return <p>Wallet is on its way.</p>; }
