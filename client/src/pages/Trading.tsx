export default function Trading() { return <p>Trading is on its way.</p>; }
